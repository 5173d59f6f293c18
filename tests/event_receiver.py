"""A shop system's event endpoint on loopback: a real HTTP server that checks bridge's signature and keeps what
it received; `answer` chooses each response (an outage is a 503, a dropped connection, or a slow answer)."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from bridge.connectors.custom import verify_signature

SECRET = "event-endpoint-secret-0123456789abcdef"


class Receiver:
    """Records every delivery (event id, type, group, data, whether its signature held) in arrival order."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.received: list[dict] = []
        self.answer: Callable[[dict], int | None] = lambda event: 200  # None: close the connection, no answer
        self.on_request: Callable[[dict], None] | None = None
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    verify_signature(receiver.secret, dict(self.headers), body, datetime.now(timezone.utc))
                    signed = True
                except Exception:  # the test asserts on `signed`; any refusal counts as unsigned
                    signed = False
                event = dict(json.loads(body), signed=signed, event_id_header=self.headers.get("Bridge-Event-Id"))
                if receiver.on_request:
                    receiver.on_request(event)
                status = receiver.answer(event)
                if status is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.received.append(event)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bridge-events"

    def __enter__(self) -> "Receiver":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def ids(self) -> list[int]:
        """The event ids accepted, in arrival order (a redelivered event appears again)."""
        return [e["id"] for e in self.received]


def endpoint_yaml(url: str, name: str = "crm", secret: str = SECRET, indent: int = 4) -> str:
    """A shop's `events:` section with one endpoint."""
    pad = " " * indent
    return f"{pad}events:\n{pad}  - {{name: {name}, url: '{url}', secret: {secret}, alert_email: owner@shop.test}}\n"
