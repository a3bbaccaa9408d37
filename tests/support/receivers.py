"""Real receivers of alerts on 127.0.0.1: a webhook endpoint (http.server in a thread) and
an SMTP server (aiosmtpd). Both keep every delivery and the unique ones by idempotency key
(``Idempotency-Key`` header, ``Message-ID``), as a careful receiver does, and can be told
to fail the next N deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.localstac import free_port


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes

    @property
    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.body)
        return doc


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: WebhookReceiver


class _Hook(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        r = self.server.owner
        with r.lock:
            r.attempts.append(Hit(dict(self.headers), body))
            fail = r.fail_next > 0
            if fail:
                r.fail_next -= 1
            delay = r.delay_s
        if delay:
            time.sleep(delay)
            self.send_response(503)  # the sender gave up already: not a delivery
            self.end_headers()
            return
        if fail:
            self.send_response(500)
            self.end_headers()
            return
        with r.lock:
            key = self.headers.get("Idempotency-Key", "")
            if key and key not in r.unique:
                r.unique[key] = Hit(dict(self.headers), body)
        self.send_response(204)
        self.end_headers()


class WebhookReceiver:
    """``url`` accepts POSTs; ``unique``: key -> first accepted delivery."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.port = free_port()
        self.attempts: list[Hit] = []
        self.unique: dict[str, Hit] = {}
        self.fail_next = 0
        self.delay_s = 0.0
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", self.port), _Hook)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def signed(self, hit: Hit) -> bool:
        want = "sha256=" + hmac.new(self.secret.encode(), hit.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, hit.headers.get("X-Sitewatch-Signature", ""))

    def reset(self) -> None:
        with self.lock:
            self.attempts.clear()
            self.unique.clear()
            self.fail_next = 0
            self.delay_s = 0.0

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class _Handler:
    owner: SmtpReceiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        r = self.owner
        with r.lock:
            r.attempts += 1
            if r.refuse_next > 0:
                r.refuse_next -= 1
                return "550 5.7.1 delivery refused by policy"
            msg = message_from_bytes(envelope.content)
            key = str(msg.get("Message-ID", ""))
            r.messages.append(msg)
            r.unique.setdefault(key, msg)
        return "250 OK"


@dataclass
class SmtpReceiver:
    """aiosmtpd on 127.0.0.1; ``unique``: Message-ID -> first accepted message."""

    port: int = field(default_factory=free_port)
    messages: list[Message] = field(default_factory=list)
    unique: dict[str, Message] = field(default_factory=dict)
    attempts: int = 0
    refuse_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.unique.clear()
            self.attempts = 0
            self.refuse_next = 0

    def __enter__(self) -> SmtpReceiver:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
