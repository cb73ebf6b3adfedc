"""Training on the user's footage: the training scripts' command line, the footage streamed once through the frozen
stages into a shard cache, the appearance encoder's Mean-Shifted Contrastive training (on several processes where
asked), fitting and calibrating the densities, and the checkpoint with its JSON summary. ``pipeline.main`` reads as
those stages in order.
"""
