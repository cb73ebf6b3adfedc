"""AI-VAD for your own footage: training, streaming detection and a realtime UI.

One package, one module per concern (see README.md, "Code map").
"""

__version__ = "0.1.0"
