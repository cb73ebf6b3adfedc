"""The realtime desktop window (PySide6): the main window and its parts (panels, chart, camera grid, dialogs), and
one inference worker per camera that runs the live stage on frames from :mod:`aivad.video` and hands the window plain
reports; ``app`` wires them together. Everything that needs Qt is here, and nothing outside this folder imports it.
"""

from aivad.ui.qt_guard import protect_singletons

protect_singletons()
