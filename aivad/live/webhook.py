"""Posting each finished event as JSON to a URL the user gives (an alarm panel, a chat bot, a VMS).

Detection must never wait for the network: :meth:`Webhook.post` only appends to a bounded queue
and returns; one background thread delivers. When the receiver is down for long, the queue keeps
the newest events and drops the oldest (counted), so memory stays bounded and the first events
delivered after an outage are the recent ones. A failed delivery is retried with exponential
backoff (1 s, 2 s, 4 s ... capped) up to ``max_attempts`` times; a 4xx answer other than 408/429
is the receiver refusing this request, so it is not retried.

urllib only, no new dependency. The payload is ``aivad.live.event_store.StoredEvent.to_dict()``.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from aivad.errors import UserError

RETRY_STATUSES = {408, 429}  # 4xx answers that mean "later", not "never"


@dataclass
class WebhookStats:
    sent: int = 0
    failed: int = 0  # gave up after max_attempts, or refused by the receiver
    dropped: int = 0  # pushed out of the full queue, or still queued at close()
    retries: int = 0
    pending: int = 0
    last_error: str = ""


def check_url(url: str) -> str:
    """The URL unchanged when it is an http(s) address with a host; UserError otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UserError(
            f"webhook URL {url!r} must be an http:// or https:// address with a host, "
            "e.g. http://192.168.0.20:8080/aivad-events."
        )
    return url.strip()


class Webhook:
    """One receiver URL, one delivery thread (started on the first post)."""

    def __init__(
        self,
        url: str,
        queue_size: int = 100,
        max_attempts: int = 5,
        first_delay_s: float = 1.0,  # before the 2nd attempt; doubled for each further one
        max_delay_s: float = 60.0,
        timeout_s: float = 5.0,  # per request: connecting and reading the answer
    ) -> None:
        self.url = check_url(url)
        self.queue_size = max(1, int(queue_size))
        self.max_attempts = max(1, int(max_attempts))
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self.timeout_s = timeout_s
        self._queue: deque[dict] = deque()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._busy = False
        self._stats = WebhookStats()
        self._thread: threading.Thread | None = None

    # --- the detection thread's side ---------------------------------------------------
    def post(self, payload: dict) -> None:
        """Queue one event for delivery; returns at once, whatever the network does."""
        with self._wake:
            if self._stop.is_set():
                self._stats.dropped += 1
                return
            if len(self._queue) >= self.queue_size:
                self._queue.popleft()
                self._stats.dropped += 1
            self._queue.append(payload)
            if self._thread is None:
                self._thread = threading.Thread(target=self._deliver_all, name="aivad-webhook", daemon=True)
                self._thread.start()
            self._wake.notify()

    def stats(self) -> WebhookStats:
        with self._wake:
            stats = WebhookStats(**vars(self._stats))
            stats.pending = len(self._queue) + int(self._busy)
        return stats

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the queue is empty and nothing is in flight; False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._queue and not self._busy, timeout_s)

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop delivering: a wait between retries ends now; what is still queued counts as dropped."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)
        with self._wake:
            self._stats.dropped += len(self._queue)
            self._queue.clear()

    # --- the delivery thread --------------------------------------------------------------
    def _deliver_all(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._queue or self._stop.is_set())
                if self._stop.is_set():
                    return
                payload = self._queue.popleft()
                self._busy = True
            try:
                self._deliver(payload)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _deliver(self, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        for attempt in range(self.max_attempts):
            if attempt:
                with self._wake:
                    self._stats.retries += 1
                delay = min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1))
                if self._stop.wait(delay):
                    with self._wake:
                        self._stats.dropped += 1  # closed while waiting to retry
                    return
            error, retry = self._send(body)
            with self._wake:
                if error is None:
                    self._stats.sent += 1
                    return
                self._stats.last_error = error
                if not retry:
                    break
        with self._wake:
            self._stats.failed += 1

    def _send(self, body: bytes) -> tuple[str | None, bool]:
        """One POST: (None, _) when delivered, else (what went wrong, whether trying again may help)."""
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "aivad-webhook"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
            return None, False
        except urllib.error.HTTPError as error:
            retry = error.code >= 500 or error.code in RETRY_STATUSES
            return f"HTTP {error.code} {error.reason}", retry
        except (urllib.error.URLError, OSError, ValueError) as error:  # refused, timeout, DNS, reset
            reason = getattr(error, "reason", error)
            return f"{type(error).__name__}: {reason}", True
