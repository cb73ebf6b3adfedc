"""The window's event history and webhook (a part of :class:`aivad.ui.app.MainWindow`).

One SQLite history (aivad.live.event_store) per events folder serves every camera's worker: each
finished event is written by the worker that closed it, so a crash or a restart loses none, and
the history dialog lists the events of earlier sessions too. The optional webhook (aivad.live.webhook)
posts the same events to a URL the user gives; it queues and retries in its own thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit

from aivad.errors import UserError
from aivad.live.event_store import EventStore, default_path
from aivad.live.webhook import Webhook, check_url
from aivad.ui.i18n import tr

WEBHOOK_KEY = "webhook_url"


class WindowHistory:
    event_store: EventStore | None = None
    webhook: Webhook | None = None

    def _open_history(self) -> None:
        """The history of the current events folder, and the remembered webhook; given to every camera."""
        wanted = default_path(Path(self.output_dir)) if self.output_dir else None
        if self.event_store is None or wanted is None or Path(self.event_store.path) != wanted:
            old = self.event_store
            self.event_store = None
            if wanted is not None:
                try:
                    wanted.parent.mkdir(parents=True, exist_ok=True)
                    self.event_store = EventStore(wanted)
                except (OSError, UserError) as error:
                    self.show_error(tr("hist_open_failed", message=str(error)), owner="history", level="warning")
            self._attach_history()
            if old is not None:
                old.close()
        url = str(self.settings.value(WEBHOOK_KEY, "") or "")
        if url and self.webhook is None:
            try:
                self.webhook = Webhook(url)
            except UserError as error:
                self.show_error(tr("webhook_error", message=str(error)), owner="history", level="warning")
            self._attach_history()

    def _attach_history(self, cameras=None) -> None:
        for camera in self.cameras if cameras is None else cameras:
            camera.worker.event_store = self.event_store
            camera.worker.webhook = self.webhook

    def show_history(self) -> None:
        from aivad.ui.history import EventHistoryDialog

        self._open_history()
        if self.event_store is None:
            return
        dialog = EventHistoryDialog(self.event_store, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.history_dialog = dialog

    def set_webhook_dialog(self) -> None:
        current = str(self.settings.value(WEBHOOK_KEY, "") or "")
        url, ok = QInputDialog.getText(
            self, tr("act_webhook"), tr("webhook_prompt"), QLineEdit.EchoMode.Normal, current
        )
        if ok:
            self.set_webhook(url.strip())

    def set_webhook(self, url: str) -> bool:
        """Post every finished event to ``url`` from now on ("" = off). False, with a message, for a bad URL."""
        if url:
            try:
                check_url(url)
            except UserError as error:
                self.show_error(tr("webhook_error", message=str(error)), owner="history")
                return False
        old, self.webhook = self.webhook, (Webhook(url) if url else None)
        self.settings.setValue(WEBHOOK_KEY, url)
        self._attach_history()
        if old is not None:
            old.close()
        return True

    def _close_history(self) -> None:
        """After the workers stopped: deliver what the webhook can within 2 s, then close the database."""
        if self.webhook is not None:
            self.webhook.flush(2.0)
            self.webhook.close()
            self.webhook = None
        if self.event_store is not None:
            self.event_store.close()
            self.event_store = None
