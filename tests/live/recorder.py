"""A loopback relay in front of bridge's webhook receiver that keeps every delivery byte for byte, to replay."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class DeliveryRecorder:
    """Forwards every request to `target` (bridge); records each webhook POST (path, headers, body, status)."""

    def __init__(self, target: str):
        self.target = target.rstrip("/")
        self.deliveries: list[tuple[str, dict, bytes, int]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.request(self.command, recorder.target + self.path, data=body, headers=headers,
                                          timeout=60, allow_redirects=False)
                if self.command == "POST" and self.path.startswith("/webhooks/"):
                    recorder.deliveries.append((self.path, headers, body, answer.status_code))
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_OPTIONS = relay  # noqa: N815 (http.server's naming)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def replay(self, newest_first: bool = True) -> list[int]:
        """Send every recorded delivery again to bridge; return bridge's statuses."""
        order = list(reversed(self.deliveries)) if newest_first else list(self.deliveries)
        return [requests.post(self.target + path, data=body, headers=headers, timeout=60).status_code
                for path, headers, body, _ in order]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
