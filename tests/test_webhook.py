"""The event webhook (aivad.webhook) against a local HTTP server on 127.0.0.1: delivery, retries, never blocking."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import SAFETY_LIMIT_S, wait_until

from aivad.errors import UserError
from aivad.live.webhook import Webhook, check_url


class Receiver:
    """A local server whose answers the test chooses: a status per request, or hanging until released."""

    def __init__(self, statuses: list[int] | None = None, hang: bool = False) -> None:
        self.statuses = list(statuses or [])
        self.hang = threading.Event() if hang else None
        self.bodies: list[dict] = []
        self.requests = 0
        self.content_types: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.requests += 1
                if receiver.hang is not None:
                    receiver.hang.wait()  # until the test, or close(), releases it
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.bodies.append(json.loads(body.decode("utf-8")))
                    receiver.content_types.append(self.headers.get("Content-Type", ""))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.hang is not None:
            self.hang.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """urllib would send 127.0.0.1 through a proxy named in the environment."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver_factory():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def test_delivers_the_event_as_json(receiver_factory):
    receiver = receiver_factory()
    hook = Webhook(receiver.url)
    payload = {"id": 3, "camera": "정문", "peak_score": 2.5, "region": [1, 2, 3, 4]}
    hook.post(payload)
    assert hook.flush(SAFETY_LIMIT_S)
    hook.close()
    assert receiver.bodies == [payload]
    assert receiver.content_types[0].startswith("application/json")
    stats = hook.stats()
    assert (stats.sent, stats.failed, stats.dropped, stats.retries) == (1, 0, 0, 0)


def test_retries_after_server_errors_with_growing_delays(receiver_factory):
    receiver = receiver_factory(statuses=[500, 500])
    hook = Webhook(receiver.url, max_attempts=4, first_delay_s=0.05, max_delay_s=1.0)
    started = time.monotonic()
    hook.post({"id": 1})
    assert hook.flush(SAFETY_LIMIT_S)
    elapsed = time.monotonic() - started
    hook.close()
    assert receiver.requests == 3
    assert receiver.bodies == [{"id": 1}]
    assert elapsed >= 0.05 + 0.1  # waited first_delay, then twice that
    stats = hook.stats()
    assert (stats.sent, stats.failed, stats.retries) == (1, 0, 2)
    assert "500" in stats.last_error


def test_gives_up_after_max_attempts_and_does_not_retry_a_refusal(receiver_factory):
    down = receiver_factory(statuses=[503] * 10)
    hook = Webhook(down.url, max_attempts=3, first_delay_s=0.01)
    hook.post({"id": 1})
    assert hook.flush(SAFETY_LIMIT_S)
    hook.close()
    assert down.requests == 3
    assert (hook.stats().sent, hook.stats().failed) == (0, 1)

    refusing = receiver_factory(statuses=[404, 404])
    hook = Webhook(refusing.url, max_attempts=3, first_delay_s=0.01)
    hook.post({"id": 2})
    assert hook.flush(SAFETY_LIMIT_S)
    hook.close()
    assert refusing.requests == 1
    assert hook.stats().failed == 1 and "404" in hook.stats().last_error


def test_post_never_blocks_and_a_full_queue_drops_the_oldest(receiver_factory):
    receiver = receiver_factory(hang=True)  # the receiver accepts the connection, then never answers
    hook = Webhook(receiver.url, queue_size=3, timeout_s=SAFETY_LIMIT_S)  # the request never times out here
    hook.post({"id": 0})
    wait_until(lambda: receiver.requests > 0, "the first request")  # in flight, stuck
    assert receiver.requests == 1
    for i in range(1, 7):
        hook.post({"id": i})
    # Here only if post() returned while the first request still had no answer: it did not wait for the network.
    assert receiver.requests == 1 and not receiver.bodies

    stats = hook.stats()
    assert stats.dropped == 3  # ids 1, 2, 3 pushed out by 4, 5, 6
    assert stats.pending == 4  # 3 queued + 1 in flight

    receiver.hang.set()
    assert hook.flush(SAFETY_LIMIT_S)
    hook.close()
    assert [body["id"] for body in receiver.bodies] == [0, 4, 5, 6]
    assert hook.stats().sent == 4


def test_close_abandons_a_retry_wait_and_counts_what_was_left(receiver_factory):
    receiver = receiver_factory(statuses=[500] * 10)
    hook = Webhook(receiver.url, max_attempts=5, first_delay_s=SAFETY_LIMIT_S, max_delay_s=SAFETY_LIMIT_S)
    hook.post({"id": 1})
    hook.post({"id": 2})
    wait_until(lambda: receiver.requests > 0, "the first request")
    hook.close(timeout_s=SAFETY_LIMIT_S)
    assert receiver.requests == 1, "close() waited out the backoff and retried"
    assert hook.stats().dropped == 2  # the one waiting to retry and the one still queued
    assert hook.stats().sent == 0


@pytest.mark.parametrize("url", ["ftp://example.com/x", "192.168.0.20:8080/events", "http://", "file:///tmp/x"])
def test_invalid_urls_are_one_sentence(url):
    with pytest.raises(UserError, match="must be an http:// or https:// address") as raised:
        Webhook(url)
    assert url in str(raised.value) and "\n" not in str(raised.value)
    assert check_url(" https://example.com/hook ") == "https://example.com/hook"
