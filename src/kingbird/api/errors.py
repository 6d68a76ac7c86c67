"""The one place where errors become HTTP responses.

Domain errors (``KingbirdError``) carry their status and a message meant for the
user. Anything else is a bug: it is logged with its traceback and the caller gets a
500 that reveals nothing. An unreachable database is a 503, not a 500.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from kingbird.api.responses import json_response
from kingbird.core import exceptions

LOG = logging.getLogger(__name__)


def error_body(code: int, title: str, message: str) -> dict:
    return {"error": {"code": code, "title": title, "message": message}}


def register_error_handlers(app: Flask) -> None:
    """Install the mapping on ``app``."""

    @app.errorhandler(exceptions.KingbirdError)
    def _domain_error(exc: exceptions.KingbirdError):
        if exc.code >= 500:
            LOG.warning("request failed: %s", exc.message)
        return json_response(error_body(exc.code, exc.title, exc.message), exc.code)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        return json_response(error_body(code, exc.name, exc.description or exc.name), code)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)  # a connection that died under the pool's feet
    @app.errorhandler(PoolTimeout)  # every connection of the pool busy for too long
    def _database_down(exc: Exception):
        LOG.error("database unavailable: %s", getattr(exc, "orig", None) or exc)
        return json_response(error_body(503, "Service Unavailable",
                                        "the database is unavailable, retry later"), 503)

    @app.errorhandler(Exception)
    def _bug(exc: Exception):
        LOG.exception("unexpected error")
        return json_response(error_body(500, "Internal Server Error",
                                        "an unexpected error occurred"), 500)
