"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and can refuse on demand."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd handler: every accepted message, parsed; `refuse_next` answers 451 to that many messages."""

    def __init__(self):
        self.messages = []
        self.refuse_next = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def subjects(self) -> list[tuple[str, str]]:
        return sorted((m["To"], m["Subject"]) for m in self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """`with SmtpServer() as smtp:` then `smtp.port`, `smtp.inbox`."""

    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def down(self) -> None:
        """Stop listening (connections are refused) until `up()`."""
        self.controller.stop()

    def up(self) -> None:
        """Listen again on the same port (a stopped aiosmtpd controller cannot be restarted)."""
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
