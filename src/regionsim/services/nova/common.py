"""What every simulated Nova route shares: the blueprint, microversions, faults, links.

Nova answers errors as ``{"<faultName>": {"code": N, "message": "..."}}``; the
fault names below are those of ``nova.api.openstack.wsgi.Fault``. Microversions
are negotiated from ``OpenStack-API-Version: compute X.Y`` or the legacy
``X-OpenStack-Nova-API-Version`` header and echoed back, as Nova does.
"""

from __future__ import annotations

import datetime
import re
import uuid

from flask import Blueprint, g, request

from regionsim.web import caller, json_body, json_response, region

bp = Blueprint("nova", __name__, url_prefix="/compute")

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 90)
API_PREFIX = "/compute/v2.1"

_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
                404: "itemNotFound", 405: "badMethod", 409: "conflictingRequest",
                413: "overLimit", 415: "badMediaType", 429: "overLimit",
                501: "notImplemented", 503: "serviceUnavailable"}
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class NovaError(Exception):
    """An error Nova would answer with its fault body and ``code``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def bad_request(message: str) -> NovaError:
    return NovaError(400, message)


def not_found(message: str) -> NovaError:
    return NovaError(404, message)


def conflict(message: str) -> NovaError:
    return NovaError(409, message)


def forbidden(message: str) -> NovaError:
    return NovaError(403, message)


def policy_denied(rule: str) -> NovaError:
    """The 403 oslo.policy gives when a default rule refuses the caller."""
    return NovaError(403, f"Policy doesn't allow {rule} to be performed.")


def require_admin(rule: str) -> None:
    if not caller().is_admin:
        raise policy_denied(rule)


def require_project_or_admin(rule: str, project_id: str) -> None:
    """Nova's PROJECT_READER_OR_ADMIN: a member may read its own project only."""
    who = caller()
    if not who.is_admin and who.project_id != project_id:
        raise policy_denied(rule)


@bp.errorhandler(NovaError)
def _nova_fault(exc: NovaError):
    name = _FAULT_NAMES.get(exc.code, "computeFault")
    return json_response({name: {"code": exc.code, "message": exc.message}}, exc.code)


def _requested_version() -> tuple[int, int]:
    header = request.headers.get("OpenStack-API-Version", "")
    text = None
    for part in header.split(","):
        service, _, value = part.strip().partition(" ")
        if service.lower() == "compute" and value.strip():
            text = value.strip()
    if text is None:
        text = request.headers.get("X-OpenStack-Nova-API-Version", "").strip() or None
    if text is None:
        return MIN_VERSION
    if text.lower() == "latest":
        return MAX_VERSION
    match = _VERSION_RE.match(text)
    if not match:
        raise bad_request(f"API Version String {text} is of invalid format. Must be of "
                          "format MajorNum.MinorNum.")
    wanted = (int(match.group(1)), int(match.group(2)))
    if not MIN_VERSION <= wanted <= MAX_VERSION:
        raise NovaError(406, f"Version {text} is not supported by the API. Minimum is "
                             f"{fmt(MIN_VERSION)} and maximum is {fmt(MAX_VERSION)}.")
    return wanted


def fmt(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


@bp.before_request
def _negotiate():
    g.nova_request_id = "req-" + str(uuid.uuid4())
    g.nova_version = MIN_VERSION
    g.nova_version = _requested_version()


@bp.after_request
def _version_headers(response):
    version = fmt(getattr(g, "nova_version", MIN_VERSION))
    response.headers["OpenStack-API-Version"] = f"compute {version}"
    response.headers["X-OpenStack-Nova-API-Version"] = version
    response.headers["Vary"] = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"
    request_id = getattr(g, "nova_request_id", "")
    response.headers["X-OpenStack-Request-Id"] = request_id
    response.headers["X-Compute-Request-Id"] = request_id
    return response


def version() -> tuple[int, int]:
    """The microversion of the current request."""
    return g.nova_version


def at_least(minor: int) -> bool:
    """True when the request's microversion is 2.``minor`` or later."""
    return g.nova_version >= (2, minor)


def state():
    """This region's Nova state."""
    return region().service("nova")


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def iso_z(moment: datetime.datetime) -> str:
    """Servers and flavors: ``2024-01-31T12:00:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(moment: datetime.datetime | None) -> str | None:
    """Keypairs and attachments: ``2024-01-31T12:00:00.123456``."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def links(collection: str, ident: str) -> list[dict]:
    """``self`` and ``bookmark`` links as Nova builds them from the request URL."""
    base = request.host_url.rstrip("/")
    return [{"rel": "self", "href": f"{base}{API_PREFIX}/{collection}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/compute/{collection}/{ident}"}]


def body_object(key: str) -> dict:
    """The request body's ``key`` object, or Nova's schema-style 400."""
    body = json_body()
    if body is None:
        raise bad_request("The request body is malformed or not a JSON object.")
    value = body.get(key)
    if not isinstance(value, dict):
        raise bad_request(f"Invalid input for field/attribute {key}. Value: {body}. "
                          f"'{key}' is a required property")
    return value


def parse_int(name: str, value, minimum: int | None = None,
              maximum: int = 0x7FFFFFFF) -> int:
    """An integer from a JSON number or numeric string, as Nova's schemas accept."""
    if isinstance(value, bool):
        raise bad_request(f"Invalid input for field/attribute {name}. Value: {value}. "
                          f"{value} is not of type 'integer', 'string'")
    try:
        number = int(value) if not isinstance(value, float) else None
    except (TypeError, ValueError):
        number = None
    if number is None:
        raise bad_request(f"Invalid input for field/attribute {name}. Value: {value}. "
                          f"'{value}' does not match '^-?[0-9]+$'")
    if minimum is not None and number < minimum:
        raise bad_request(f"Invalid input for field/attribute {name}. Value: {value}. "
                          f"{value} is less than the minimum of {minimum}")
    if number > maximum:
        raise bad_request(f"Invalid input for field/attribute {name}. Value: {value}. "
                          f"{value} is greater than the maximum of {maximum}")
    return number


def query_bool(name: str, default: bool = False) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in ("1", "t", "true", "on", "y", "yes", ""):
        return True
    if text in ("0", "f", "false", "off", "n", "no"):
        return False
    raise bad_request(f"Invalid value '{raw}' for {name}")


def paginate(items: list[dict], key: str = "id") -> list[dict]:
    """Apply Nova's ``limit`` and ``marker`` query parameters to an ordered list."""
    marker = request.args.get("marker")
    if marker is not None:
        for index, item in enumerate(items):
            if item[key] == marker:
                items = items[index + 1:]
                break
        else:
            raise bad_request(f"marker [{marker}] not found")
    limit = request.args.get("limit")
    if limit is not None:
        items = items[:parse_int("limit", limit, minimum=0)]
    return items


def route(rule: str, methods: tuple[str, ...] = ("GET",)):
    """Register a view under ``/v2.1`` and the legacy ``/v2.1/{project_id}`` prefix.

    Nova still routes both forms; with the project in the URL it must match the
    token's project (``Malformed request URL`` otherwise).
    """
    def decorator(view):
        def legacy(url_project_id: str, **kwargs):
            token_project = caller().project_id
            if url_project_id != token_project:
                raise bad_request(f"Malformed request URL: URL's project_id "
                                  f"'{url_project_id}' doesn't match Context's "
                                  f"project_id '{token_project}'")
            return view(**kwargs)

        endpoint = view.__module__.rsplit(".", 1)[-1] + "_" + view.__name__
        bp.add_url_rule("/v2.1" + rule, endpoint, view, methods=list(methods))
        bp.add_url_rule("/v2.1/<url_project_id>" + rule, endpoint + "_legacy", legacy,
                        methods=list(methods))
        return view
    return decorator
