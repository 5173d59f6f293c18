"""The production servers: gunicorn's pre-fork workers by default on Linux, waitress where it serves better.

Measured on this project's 2-core machines (README, "Speed"): gunicorn with one process per core
about doubles what waitress's threads serve and halves the p99, because each process has its own
interpreter lock. The socket is bound here first, so that a busy port is one line before anything
says it is serving; gunicorn's workers inherit it. On SIGTERM gunicorn lets in-flight requests
finish (up to `GRACEFUL_SECONDS`) and exits 0; `--with-worker` then runs the jobs in one more
process, never in each web worker.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from typing import Callable

from flask import Flask

SERVERS = ("gunicorn", "waitress")
GRACEFUL_SECONDS = 30
log = logging.getLogger("bridge.web.server")


def default_server() -> str:
    """gunicorn where it runs (Linux and other Unixes: it forks), waitress elsewhere."""
    return "gunicorn" if hasattr(os, "fork") and sys.platform != "win32" else "waitress"


def default_workers() -> int:
    """One web process per core (measured best here: more processes only share the same cores)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def listen(host: str, port: int) -> socket.socket:
    """Bind and listen on host:port (OSError when the port is taken), for the server to inherit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def error_body(status: int, reason: str, message: str) -> bytes:
    """The JSON error shape every bridge answer has, for errors the server itself answers."""
    code = reason.lower().replace(" ", "_").replace("-", "_")
    return json.dumps({"error": {"code": code, "message": message or reason}}).encode()


def serve_waitress(app: Flask, sock: socket.socket, threads: int) -> None:
    """Serve with waitress's threads in this one process until interrupted."""
    import waitress
    from waitress.utilities import Error

    def to_response(self, ident=None):
        # Requests waitress cannot parse (a NUL in a header) get bridge's JSON error shape, not plain text.
        return (f"{self.code} {self.reason}", [("Content-Type", "application/json")],
                error_body(self.code, self.reason, str(self.body or self.reason)))

    Error.to_response = to_response
    server = waitress.create_server(app, sockets=[sock], threads=threads, ident="bridge")
    server.print_listen("Serving on http://{}:{}")  # waitress's own line, as waitress.serve logs it
    server.run()


def serve_gunicorn(make_app: Callable[[], Flask], sock: socket.socket, workers: int, threads: int) -> None:
    """Serve with gunicorn's pre-forked workers (each builds its own app) until SIGTERM, then exit 0."""
    import gunicorn.http.wsgi
    import gunicorn.util
    from gunicorn.app.base import BaseApplication

    def write_error(client, status_int, reason, mesg):
        body = error_body(status_int, reason, mesg)
        head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin1")
        gunicorn.util.write_nonblock(client, head + body)

    gunicorn.util.write_error = write_error  # requests gunicorn cannot parse: bridge's JSON error shape
    gunicorn.http.wsgi.SERVER = "bridge"  # the Server header names bridge, not the server's version

    class Bridge(BaseApplication):
        def load_config(self) -> None:
            settings = {"bind": [f"fd://{sock.fileno()}"], "workers": workers, "threads": threads,
                        "worker_class": "gthread" if threads > 1 else "sync", "graceful_timeout": GRACEFUL_SECONDS,
                        "keepalive": 5, "accesslog": None, "errorlog": "-", "loglevel": "warning",
                        "proc_name": "bridge", "timeout": 60,
                        "control_socket_disable": True}  # gunicorn 24+: no control socket in the home folder
            for key, value in settings.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Flask:
            return make_app()

    host, port = sock.getsockname()[:2]
    print(f"Serving on http://{host}:{port} with {workers} processes", file=sys.stderr, flush=True)
    Bridge().run()


def start_job_process(config_path: str) -> subprocess.Popen:
    """Run `bridge worker` beside the web processes (`serve --with-worker` under gunicorn)."""
    return subprocess.Popen([sys.executable, "-c", "import sys; from bridge.cli import main; sys.exit(main())",
                             "--config", config_path, "worker"])


def stop_job_process(process: subprocess.Popen | None) -> None:
    """Ask the job process to stop (it lets running jobs finish) and wait for it."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=GRACEFUL_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
