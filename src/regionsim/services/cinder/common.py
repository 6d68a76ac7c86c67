"""What every simulated Cinder route shares: blueprint, routing, microversions, faults.

Every API route is served both as ``/volume/v3/{project_id}/...`` and, as
Cinder does since 3.67, as ``/volume/v3/...``; a project in the URL must be
the token's (``Malformed request url`` otherwise). Microversions come from
``OpenStack-API-Version: volume 3.x`` and are echoed back.
"""

from __future__ import annotations

import datetime
import re
import uuid

from flask import Blueprint, g, request

from regionsim.web import caller, json_body, json_response, region

bp = Blueprint("cinder", __name__, url_prefix="/volume")

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 71)
AZ = "nova"
BACKEND_HOST = "regionsim@lvmdriver-1"

_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden",
                404: "itemNotFound", 405: "badMethod", 409: "conflictingRequest",
                413: "overLimit", 415: "badMediaType", 429: "overLimit",
                501: "notImplemented", 503: "serviceUnavailable"}
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


class CinderError(Exception):
    """An error Cinder answers with its fault body; 413s carry ``retryAfter``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def bad_request(message: str) -> CinderError:
    return CinderError(400, message)


def not_found(message: str) -> CinderError:
    return CinderError(404, message)


def over_limit(message: str) -> CinderError:
    return CinderError(413, message)


def policy_denied(rule: str) -> CinderError:
    return CinderError(403, f"Policy doesn't allow {rule} to be performed.")


def require_admin(rule: str) -> None:
    if not caller().is_admin:
        raise policy_denied(rule)


@bp.errorhandler(CinderError)
def _cinder_fault(exc: CinderError):
    name = _FAULT_NAMES.get(exc.code, "computeFault")
    fault = {"code": exc.code, "message": exc.message}
    headers = {}
    if exc.code == 413:
        fault["retryAfter"] = "0"
        headers["Retry-After"] = "0"
    return json_response({name: fault}, exc.code, headers)


def fmt(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _requested_version() -> tuple[int, int]:
    text = None
    for part in request.headers.get("OpenStack-API-Version", "").split(","):
        service, _, value = part.strip().partition(" ")
        if service.lower() == "volume" and value.strip():
            text = value.strip()
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
        raise CinderError(406, f"Version {text} is not supported by the API. Minimum is "
                               f"{fmt(MIN_VERSION)} and maximum is {fmt(MAX_VERSION)}.")
    return wanted


@bp.before_request
def _negotiate():
    g.cinder_request_id = "req-" + str(uuid.uuid4())
    g.cinder_version = MIN_VERSION
    g.cinder_version = _requested_version()


@bp.after_request
def _headers(response):
    if request.path.startswith("/volume/v3"):
        response.headers["OpenStack-API-Version"] = \
            f"volume {fmt(getattr(g, 'cinder_version', MIN_VERSION))}"
        response.headers["Vary"] = "OpenStack-API-Version"
    response.headers["X-OpenStack-Request-Id"] = getattr(g, "cinder_request_id", "")
    return response


def at_least(minor: int) -> bool:
    """True when the request's microversion is 3.``minor`` or later."""
    return g.cinder_version >= (3, minor)


def state():
    return region().service("cinder")


def route(rule: str, methods: tuple[str, ...] = ("GET",)):
    """Serve a view at ``/v3/{project_id}<rule>`` and ``/v3<rule>``."""
    def decorator(view):
        def with_project(url_project_id: str, **kwargs):
            if url_project_id != caller().project_id:
                raise bad_request("Malformed request url")
            return view(**kwargs)

        endpoint = view.__module__.rsplit(".", 1)[-1] + "_" + view.__name__
        bp.add_url_rule("/v3" + rule, endpoint, view, methods=list(methods))
        bp.add_url_rule("/v3/<url_project_id>" + rule, endpoint + "_p", with_project,
                        methods=list(methods))
        return view
    return decorator


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def iso(moment: datetime.datetime | None) -> str | None:
    """Cinder's timestamps: ``2024-01-31T12:00:00.000000``."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def links(collection: str, ident: str, project_id: str) -> list[dict]:
    base = request.host_url.rstrip("/")
    return [{"rel": "self", "href": f"{base}/volume/v3/{project_id}/{collection}/{ident}"},
            {"rel": "bookmark", "href": f"{base}/volume/{project_id}/{collection}/{ident}"}]


def body_object(key: str) -> dict:
    body = json_body()
    if body is None or not isinstance(body.get(key), dict):
        raise bad_request(f"Missing required element '{key}' in request body.")
    return body[key]


def parse_int(name: str, value, minimum: int | None = None,
              maximum: int = 0x7FFFFFFF) -> int:
    """Cinder's ``validate_integer``: JSON numbers or numeric strings."""
    if isinstance(value, bool) or isinstance(value, float):
        raise bad_request(f"{name} must be an integer.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad_request(f"{name} must be an integer.") from None
    if minimum is not None and number < minimum:
        raise bad_request(f"{name} must be >= {minimum}.")
    if number > maximum:
        raise bad_request(f"{name} must be <= {maximum}.")
    return number


_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def to_bool(name: str, value, default: bool = False) -> bool:
    """Cinder's ``get_bool_param``/``is_valid_boolstr`` for bodies and queries."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise bad_request(f"Invalid value '{value}' for {name}")


def visible(record: dict | None, label: str, ident: str) -> dict:
    """A record the caller may see (own project, or admin), or Cinder's 404."""
    who = caller()
    if record is None or (record["project_id"] != who.project_id and not who.is_admin):
        raise not_found(f"{label} {ident} could not be found.")
    return record


def paginate(items: list[dict]) -> list[dict]:
    marker = request.args.get("marker")
    if marker is not None:
        for index, item in enumerate(items):
            if item["id"] == marker:
                items = items[index + 1:]
                break
        else:
            raise not_found(f"Marker {marker} could not be found.")
    limit = request.args.get("limit")
    if limit is not None:
        items = items[:parse_int("limit", limit, minimum=0)]
    return items


def listing_pool(by_project: dict, everything: dict):
    """The records a listing starts from: the caller's, or every project's for admins."""
    who = caller()
    raw = request.args.get("all_tenants")
    if who.is_admin and raw is not None and (raw == "" or to_bool("all_tenants", raw)):
        wanted = request.args.get("project_id")
        return by_project.get(wanted, {}).values() if wanted else everything.values()
    return by_project.get(who.project_id, {}).values()
