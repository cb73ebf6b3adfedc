"""AI-VAD for your own footage: training, streaming detection and a realtime UI.

One folder per stage, in the order a frame meets them: ``video`` (files and cameras) -> ``features`` (the frozen
stages) -> ``model`` (densities, calibration, checkpoints) -> ``training`` or ``live`` (detector, decisions, events) ->
``ui`` (the window). Each imports only the stages before it; docs/modules.md is the map.
"""

__version__ = "0.1.0"
