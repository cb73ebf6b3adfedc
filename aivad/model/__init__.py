"""The trained model and what its numbers mean: the configuration a checkpoint records, one density estimator per
attribute, calibration of their scores, frame scores and smoothing, the alarm rule with its false-alarm rate model, and
reading and writing checkpoints (ours, and anomalib's ``AiVad``). Training writes it; the live stage and the command
line read it.
"""
