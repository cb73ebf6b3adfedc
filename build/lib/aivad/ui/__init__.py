"""The realtime desktop UI (PySide6): sources, inference worker and widgets kept apart.

``sources`` decodes (threads, no Qt), ``worker`` runs the Detector (QThread), the widget
modules draw, and ``app`` wires them into the main window.
"""

from aivad.ui.qt_guard import protect_singletons

protect_singletons()
