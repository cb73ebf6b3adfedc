"""Reproducing the paper: the public benchmarks (UCSD Ped2, CUHK Avenue, ShanghaiTech) read in the layout their
authors distribute, a model trained on each with the training pipeline and its dataset preset, every test video
scored by the live detector, and the AI-VAD authors' evaluation protocol (per-video smoothing, micro and macro
frame AUROC, AP, per-video AUROC) with the region metrics RBDC/TBDC where pixel masks exist. Top of the stages:
it stands on training and live, and nothing imports it but the command line.
"""
