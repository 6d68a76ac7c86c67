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
    """Deleting a sync job still in progress."""

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
    """The API (or a dependency behind it) cannot serve the request right now."""

    code = 503
    title = "Service Unavailable"


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
