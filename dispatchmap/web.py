"""The dashboard's production web server: gunicorn with threaded workers.

Why gunicorn (gthread) and not the development server or granian: measured
with ``bench/web.py`` on the 2-core machine (figures in the README). Flask's
development server runs one process, so the GIL held every request to one
core and it closed each connection. gunicorn forks a bounded number of
workers (each a whole Dash app with its own connection pool, opened after the
fork), keeps connections alive, restarts gracefully on SIGHUP (new workers
start before the old ones stop), and replaces a worker that hangs.

The access log never writes a query string: a wall opens with ``?token=``,
and a log line must not hand that token to whoever reads the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)

# Method, path without its query, status, bytes, time taken (µs), client.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(D)sus'


class DashboardServer(BaseApplication):
    """gunicorn running the WSGI app that ``factory`` builds in each worker.

    ``factory`` runs after the fork, in every worker, so no pool, thread or
    socket is shared between processes; it returns the WSGI callable and a
    function that closes what it opened (called when the worker exits).
    """

    def __init__(
        self,
        factory: Callable[[], tuple[Any, Callable[[], None]]],
        *,
        bind: str,
        workers: int,
        threads: int,
        access_log: bool,
        timeout_s: int = 60,
    ) -> None:
        self.factory = factory
        self.options = {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            # Desks and walls call every second: keep their connections open.
            "keepalive": 75,
            "timeout": timeout_s,
            "graceful_timeout": 20,
            "accesslog": "-" if access_log else None,
            "access_log_format": ACCESS_LOG_FORMAT,
            "errorlog": "-",
            "loglevel": "warning",
            # A request line or header over these is refused (400/431) before Flask sees it.
            "limit_request_line": 8190,
            "limit_request_fields": 100,
            "worker_exit": _close_on_exit,
            "proc_name": "dispatchmap-serve",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        app, close = self.factory()
        _CLOSERS.append(close)
        return app


# One list per worker process (filled after the fork by ``load``).
_CLOSERS: list[Callable[[], None]] = []


def _close_on_exit(server: Any, worker: Any) -> None:
    while _CLOSERS:
        try:
            _CLOSERS.pop()()
        except Exception:  # a worker on its way out still closes the rest
            log.exception("closing the dashboard's resources")


def wsgi_app() -> Any:
    """The dashboard's WSGI callable from the environment's settings, for a
    server that imports a factory (``granian --factory dispatchmap.web:wsgi_app``)."""
    from dispatchmap.commands.servers import dashboard_app
    from dispatchmap.settings import DashboardSettings, ServerSettings

    dash_cfg = DashboardSettings()
    url = ServerSettings().database_url
    if url is None:
        raise SystemExit("DATABASE_URL is not set")
    app, _close = dashboard_app(url, dash_cfg, dash_cfg.threads, wsgi=True)
    return app
