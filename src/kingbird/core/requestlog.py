"""The request id in every log line, from the API request into the engine's work.

The API binds the id of each request (``x-openstack-request-id``) for as long as
it handles it; the engine binds the id recorded with a sync job while it runs
that job's entries. Log handlers set up by ``kingbird.cmd.logs`` print it, so
that one grep follows a request across processes.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

NONE = "-"

_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("kingbird_request_id",
                                                                  default=NONE)


def current() -> str:
    """The request id bound in this thread (``-`` when none)."""
    return _REQUEST_ID.get()


@contextlib.contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    """Log lines written inside the block carry ``request_id``."""
    token = _REQUEST_ID.set(request_id or NONE)
    try:
        yield
    finally:
        _REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record a handler formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _REQUEST_ID.get()
        return True
