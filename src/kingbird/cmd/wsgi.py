"""``kingbird.cmd.wsgi:application``: the API for a production WSGI server.

    KINGBIRD_CONFIG_FILE=/etc/kingbird/kingbird.conf \\
        gunicorn -c python:kingbird.cmd.gunicorn_conf kingbird.cmd.wsgi:application

The configuration comes from ``$KINGBIRD_CONFIG_FILE`` (several files separated
by commas, later ones overriding earlier ones; default
``/etc/kingbird/kingbird.conf``). Logs go to ``$KINGBIRD_LOG_FILE`` (default
standard error) at ``$KINGBIRD_LOG_LEVEL`` (default INFO).

Each worker process builds its own application — database pool, region
sessions, auth_token's cache — the first time it is called (or at worker start
with the gunicorn settings above), never in a master process that forks: a
connection pool must not be shared across a fork.
"""

from __future__ import annotations

import os
import threading

CONFIG_ENV = "KINGBIRD_CONFIG_FILE"
THREADS_ENV = "KINGBIRD_API_THREADS"
DEFAULT_CONFIG_FILE = "/etc/kingbird/kingbird.conf"


def config_files() -> list[str]:
    """The configuration files named by ``$KINGBIRD_CONFIG_FILE``."""
    value = os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_FILE
    return [path.strip() for path in value.split(",") if path.strip()]


def build_application():
    """The full WSGI stack of the API, configured from ``config_files()``."""
    from kingbird import config
    from kingbird.cmd import logs
    from kingbird.cmd.api import build_wsgi_app

    args = [arg for path in config_files() for arg in ("--config-file", path)]
    conf = config.load_config(args, prog="kingbird-api")
    if os.environ.get(THREADS_ENV):  # gunicorn's threads per worker (gunicorn_conf)
        conf.set_override("threads", int(os.environ[THREADS_ENV]), group="api")
    logs.setup(os.environ.get("KINGBIRD_LOG_LEVEL", "INFO"),
               os.environ.get("KINGBIRD_LOG_FILE") or None)
    return build_wsgi_app(conf)


class LazyApplication:
    """A WSGI callable that builds the real application in the process that serves."""

    def __init__(self):
        self._app = None
        self._lock = threading.Lock()

    def load(self):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = build_application()
        return self._app

    def __call__(self, environ, start_response):
        return self.load()(environ, start_response)


application = LazyApplication()
