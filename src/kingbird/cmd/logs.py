"""Logging set-up of the console scripts."""

from __future__ import annotations

import logging


def setup(level: str = "INFO", path: str | None = None) -> None:
    handler: logging.Handler = (logging.FileHandler(path) if path else logging.StreamHandler())
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # keystonemiddleware and urllib3 are chatty at INFO about every token and socket.
    for noisy in ("keystonemiddleware", "urllib3", "stevedore", "keystoneauth"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
