"""The exceptions the client library raises and the CLI catches.

The client ships without the server, so it carries its own copy of the server's error
hierarchy (``kingbird.client.exceptions``): the same class names, HTTP codes and titles,
checked equal by ``tests/unit/test_client_vocabulary.py``. A caller catches
``kingbird.client.exceptions.NotFound`` for a 404. Each raised exception carries
``http_status``: the status actually received, or ``None`` when there was no answer.
"""

from __future__ import annotations


class KingbirdError(Exception):
    """Base class: the API's message for the user and the HTTP status it came with."""

    code = 500
    title = "Internal Server Error"
    http_status: int | None = None

    def __init__(self, message: str | None = None):
        self.message = message or self.title
        super().__init__(self.message)


class BadRequest(KingbirdError):
    code, title = 400, "Bad Request"


class Unauthorized(KingbirdError):
    code, title = 401, "Unauthorized"


class Forbidden(KingbirdError):
    code, title = 403, "Forbidden"


class NotFound(KingbirdError):
    code, title = 404, "Not Found"


class NotAcceptable(KingbirdError):
    """Deleting a sync job still in progress."""

    code, title = 406, "Not Acceptable"


class Conflict(KingbirdError):
    code, title = 409, "Conflict"


class PayloadTooLarge(KingbirdError):
    code, title = 413, "Request Entity Too Large"


class UnsupportedMediaType(KingbirdError):
    code, title = 415, "Unsupported Media Type"


class ServiceUnavailable(KingbirdError):
    """The API (or a dependency behind it) cannot serve the request right now."""

    code, title = 503, "Service Unavailable"


# The classes an HTTP error status of the API maps to; other statuses stay KingbirdError.
STATUS_CLASSES: tuple[type[KingbirdError], ...] = (
    BadRequest, Unauthorized, Forbidden, NotFound, NotAcceptable, Conflict,
    PayloadTooLarge, UnsupportedMediaType, ServiceUnavailable)


# Failures on the client's side of the wire, before or instead of an API answer.

class ConnectionFailed(ServiceUnavailable):
    """Kingbird, or the Keystone in front of it, could not be reached at all."""


class EndpointNotFound(NotFound):
    """The service catalog has no Kingbird endpoint for the region and interface."""


class AuthenticationFailed(Unauthorized):
    """Keystone refused the credentials, or they are incomplete."""


class ProjectUnknown(BadRequest):
    """The caller's project is needed but the credentials do not tell it."""
