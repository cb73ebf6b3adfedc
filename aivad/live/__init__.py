"""Watching with a trained model: the detector that scores frames, deciding (zones, smoothing, threshold, hysteresis)
into events, the one inference scheduler every camera shares, cameras as jobs outside Qt, the event history and the
webhook, drawing regions and heat maps, and event-level evaluation of a scored video. The window and the command line
build on it; it never trains.
"""
