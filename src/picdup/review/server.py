"""Start a review: bind 127.0.0.1, make a token, serve the app until Ctrl-C."""

from __future__ import annotations

import errno
import os
import secrets
import socket
import threading
from typing import Any

from picdup.errors import ConfigError, InputError

__all__ = ["INSTALL_HINT", "ReviewServer", "open_review"]

INSTALL_HINT = "the review page needs starlette and uvicorn: pip install 'picdup[review]'"
HOST = "127.0.0.1"


def _require_web() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc


class ReviewServer:
    """A bound, not yet serving, review server. :attr:`url` carries the token."""

    def __init__(self, app: Any, sock: socket.socket, token: str, decisions_path: str) -> None:
        self.app = app
        self.sock = sock
        self.token = token
        self.decisions_path = decisions_path
        self.port = int(sock.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}/{token}/"
        self._server: Any = None

    def serve(self) -> None:
        """Serve until interrupted (Ctrl-C or SIGTERM), then close the socket."""
        import uvicorn

        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        try:
            self._server.run(sockets=[self.sock])
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a review ends; uvicorn has already shut down cleanly
        finally:
            self.sock.close()

    def serve_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (for embedding); stop with :meth:`stop`."""
        import uvicorn

        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # not the main thread
        thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        thread.start()
        return thread

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


def open_review(
    report: str | os.PathLike[str],
    *,
    port: int = 0,
    cache_dir: str | None = None,
    token: str | None = None,
) -> ReviewServer:
    """Load ``report`` and bind the review server on 127.0.0.1 (``port`` 0: any free port).

    Input: a JSON report; its decisions file (``REPORT.decisions.json``) is read when present.
    Output: a :class:`ReviewServer`; call :meth:`ReviewServer.serve`. Its URL holds a random
    128-bit token that every request must carry.
    Errors: :class:`ConfigError` when starlette/uvicorn are missing or the port is out of range,
    :class:`~picdup.errors.ReportError` for an unreadable report or decisions file,
    :class:`InputError` when the port is taken.
    Performance: loading a 10,000-group report takes well under a second; the page asks for
    20 groups at a time and thumbnails are made on demand and cached on disk.
    """
    _require_web()
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {port}")
    from picdup.review.app import create_app
    from picdup.review.session import ReviewSession

    session = ReviewSession(report, cache_dir=cache_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise InputError(f"port {port} is in use; choose another with --port") from exc
        raise InputError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from exc
    token = token or secrets.token_urlsafe(16)
    bound = int(sock.getsockname()[1])
    hosts = [f"{HOST}:{bound}", f"localhost:{bound}"]
    app = create_app(session, token, hosts)
    return ReviewServer(app, sock, token, session.decisions_path)
