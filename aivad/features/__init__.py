"""The frozen stages: what either backend sees in a frame pair. Regions (Mask R-CNN plus foreground, or the lite
backend's motion regions), optical flow and velocity, pose and geometry, the appearance encoders that describe a
region's crop, and where the networks' weights come from. Both backends hand on the same ``FrameRegions``; nothing here
learns from the user's footage but the appearance encoder, which training adapts.
"""
