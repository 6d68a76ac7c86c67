"""Faults and microversions as the OpenStack services of the Nova family do them.

Nova and Cinder answer faults as ``{name: {"code": N, "message": "..."}}``, with
the names of ``nova.api.openstack.wsgi.Fault``, and negotiate microversions the
same way: from ``OpenStack-API-Version: <service> X.Y`` (``latest`` meaning the
maximum, no header the minimum), echoed back on the response. Each service
keeps its own error class, header names and version range; what differs
(Cinder's ``retryAfter``, Nova's legacy header) is passed in or stays with it.
"""

from __future__ import annotations

import re
import uuid

from flask import g, request

from regionsim.web import caller

_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
                404: "itemNotFound", 405: "badMethod", 409: "conflictingRequest",
                413: "overLimit", 415: "badMediaType", 429: "overLimit",
                501: "notImplemented", 503: "serviceUnavailable"}
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class FaultError(Exception):
    """An error the service answers with its fault body and ``code``.

    Each service subclasses it so that its blueprint handles only its own errors
    and callers can tell a Nova failure from a Cinder one.
    """

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def bad_request(cls, message: str):
        """A 400 of this service."""
        return cls(400, message)

    @classmethod
    def not_found(cls, message: str):
        """A 404 of this service."""
        return cls(404, message)

    @classmethod
    def policy_denied(cls, rule: str):
        """The 403 oslo.policy gives when a default rule refuses the caller."""
        return cls(403, f"Policy doesn't allow {rule} to be performed.")

    @classmethod
    def require_admin(cls, rule: str) -> None:
        """Raise :meth:`policy_denied` for ``rule`` unless the caller is an admin."""
        if not caller().is_admin:
            raise cls.policy_denied(rule)


def fault_body(exc: FaultError, **extra) -> dict:
    """``{faultName: {"code": N, "message": "...", **extra}}`` for ``exc``."""
    name = _FAULT_NAMES.get(exc.code, "computeFault")
    return {name: {"code": exc.code, "message": exc.message, **extra}}


def fmt(version: tuple[int, int]) -> str:
    """``(2, 1)`` as ``"2.1"``."""
    return f"{version[0]}.{version[1]}"


def new_request_id() -> str:
    """A request id as OpenStack services hand them out: ``req-<uuid>``."""
    return "req-" + str(uuid.uuid4())


class Microversions:
    """A service's microversion range and the headers that name and echo it.

    :param key: the service's name in ``flask.g``: the request's version and id
        are kept as ``g.<key>_version`` and ``g.<key>_request_id``.
    :param service: the service type in ``OpenStack-API-Version`` (``compute``).
    :param minimum: the version of requests that name none.
    :param maximum: the version ``latest`` stands for.
    :param error: the service's :class:`FaultError` subclass for 400 and 406.
    :param legacy_header: an older header read when ``OpenStack-API-Version``
        names no version for ``service``, and echoed back too.
    """

    def __init__(self, key: str, service: str, minimum: tuple[int, int],
                 maximum: tuple[int, int], error: type[FaultError],
                 legacy_header: str | None = None):
        self._version_attr = f"{key}_version"
        self._request_id_attr = f"{key}_request_id"
        self.service = service
        self.minimum = minimum
        self.maximum = maximum
        self.error = error
        self.legacy_header = legacy_header

    def requested(self) -> tuple[int, int]:
        """The current request's microversion.

        :returns: the version the headers name, ``maximum`` for ``latest``, or
            ``minimum`` when they name none.
        :raises FaultError: 400 for a malformed version, 406 for one out of range.
        """
        text = None
        for part in request.headers.get("OpenStack-API-Version", "").split(","):
            service, _, value = part.strip().partition(" ")
            if service.lower() == self.service and value.strip():
                text = value.strip()
        if text is None and self.legacy_header is not None:
            text = request.headers.get(self.legacy_header, "").strip() or None
        if text is None:
            return self.minimum
        if text.lower() == "latest":
            return self.maximum
        match = _VERSION_RE.match(text)
        if not match:
            raise self.error.bad_request(f"API Version String {text} is of invalid format. "
                                         "Must be of format MajorNum.MinorNum.")
        wanted = (int(match.group(1)), int(match.group(2)))
        if not self.minimum <= wanted <= self.maximum:
            raise self.error(406, f"Version {text} is not supported by the API. Minimum is "
                                  f"{fmt(self.minimum)} and maximum is {fmt(self.maximum)}.")
        return wanted

    def negotiate(self) -> None:
        """Give the current request an id and its microversion (a ``before_request``).

        The minimum is recorded first so that the 400 or 406 for a bad version header
        is still answered with a version to echo.
        """
        setattr(g, self._request_id_attr, new_request_id())
        setattr(g, self._version_attr, self.minimum)
        setattr(g, self._version_attr, self.requested())

    def current(self) -> tuple[int, int]:
        """The negotiated version, or the minimum before negotiation."""
        return getattr(g, self._version_attr, self.minimum)

    def request_id(self) -> str:
        """The current request's id, ``""`` before negotiation."""
        return getattr(g, self._request_id_attr, "")

    def echo(self, response) -> None:
        """Set the version headers of ``response`` to the negotiated version."""
        text = fmt(self.current())
        response.headers["OpenStack-API-Version"] = f"{self.service} {text}"
        vary = ["OpenStack-API-Version"]
        if self.legacy_header is not None:
            response.headers[self.legacy_header] = text
            vary.append(self.legacy_header)
        response.headers["Vary"] = ", ".join(vary)
