"""Kingbird's exception hierarchy.

Every error a user can cause or observe is a ``KingbirdError`` carrying its HTTP
status; the API maps them to responses in exactly one place
(``kingbird.api.errors``). Anything else that escapes is a bug and becomes a 500
whose detail goes to the log, never to the caller.
"""

from __future__ import annotations


class KingbirdError(Exception):
    """Base class: a message meant for the user and the HTTP status it maps to."""

    code = 500
    title = "Internal Server Error"

    def __init__(self, message: str | None = None):
        self.message = message or self.title
        super().__init__(self.message)


class BadRequest(KingbirdError):
    code = 400
    title = "Bad Request"


class Unauthorized(KingbirdError):
    code = 401
    title = "Unauthorized"


class Forbidden(KingbirdError):
    code = 403
    title = "Forbidden"


class NotFound(KingbirdError):
    code = 404
    title = "Not Found"


class NotAcceptable(KingbirdError):
    """The original service answers 406 when deleting a job still in progress."""

    code = 406
    title = "Not Acceptable"


class Conflict(KingbirdError):
    code = 409
    title = "Conflict"


class PayloadTooLarge(KingbirdError):
    code = 413
    title = "Request Entity Too Large"


class UnsupportedMediaType(KingbirdError):
    code = 415
    title = "Unsupported Media Type"


class ServiceUnavailable(KingbirdError):
    """A dependency (database, Keystone, every region) cannot be reached right now."""

    code = 503
    title = "Service Unavailable"


class RegionError(KingbirdError):
    """A call to a regional service failed.

    ``status`` is the HTTP status the region answered (None when it did not answer:
    connection refused, timeout), so callers test ``exc.status == 409`` rather than
    the wording of the message; ``transient`` says whether a retry may help.
    """

    code = 502
    title = "Bad Gateway"

    def __init__(self, region: str, message: str, transient: bool = False,
                 status: int | None = None):
        self.region = region
        self.transient = transient
        self.status = status
        super().__init__(f"{region}: {message}")


class WorkFailed(Exception):
    """Leased work (a sync entry, a DR workflow step) cannot succeed; the message is
    what the user is shown in the work's ``error``.

    Not a ``KingbirdError``: it never becomes an HTTP answer, it is recorded.
    """

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class LeaseLost(Exception):
    """This engine no longer holds the lease of the work it is doing (another engine
    took it over after it expired, or this engine is stopping): stop now and record
    nothing; whoever holds the lease next resumes the work."""
