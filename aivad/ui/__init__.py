"""The realtime desktop UI (PySide6): inference worker and widgets kept apart.

Frames come from :mod:`aivad.video` (threads, no Qt), ``worker`` runs the live stage's Detector for one
camera, the widget modules draw, and ``app`` wires them into the main window.
"""

from aivad.ui.qt_guard import protect_singletons

protect_singletons()
