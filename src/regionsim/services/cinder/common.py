"""What every simulated Cinder route shares: blueprint, routing, microversions, faults.

Every API route is served both as ``/volume/v3/{project_id}/...`` and, as
Cinder does since 3.67, as ``/volume/v3/...``; a project in the URL must be
the token's (``Malformed request url`` otherwise). Microversions come from
``OpenStack-API-Version: volume 3.x`` and are echoed back.
"""

from __future__ import annotations

import datetime

from flask import Blueprint, g, request

from regionsim.services._compute_style import FaultError, Microversions, fault_body
from regionsim.web import caller, json_body, json_response, region

bp = Blueprint("cinder", __name__, url_prefix="/volume")

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 71)
AZ = "nova"
BACKEND_HOST = "regionsim@lvmdriver-1"


class CinderError(FaultError):
    """An error Cinder answers with its fault body; 413s carry ``retryAfter``."""


_VERSIONS = Microversions("cinder", "volume", MIN_VERSION, MAX_VERSION, CinderError)

bad_request = CinderError.bad_request
not_found = CinderError.not_found
policy_denied = CinderError.policy_denied
require_admin = CinderError.require_admin


def over_limit(message: str) -> CinderError:
    return CinderError(413, message)


@bp.errorhandler(CinderError)
def _cinder_fault(exc: CinderError):
    if exc.code == 413:
        return json_response(fault_body(exc, retryAfter="0"), exc.code, {"Retry-After": "0"})
    return json_response(fault_body(exc), exc.code, {})


bp.before_request(_VERSIONS.negotiate)


@bp.after_request
def _headers(response):
    # Cinder echoes the version only on the versioned API, not on its root document.
    if request.path.startswith("/volume/v3"):
        _VERSIONS.echo(response)
    response.headers["X-OpenStack-Request-Id"] = _VERSIONS.request_id()
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


def listed(by_project: dict, everything: dict, *keys: str, where=None) -> list[dict]:
    """A listing's records, newest first and paginated as the query asks.

    :param keys: fields the query may filter on: a record is kept when each one
        the query names is equal to the query's value.
    :param where: a further test of a record, made only on records the ``keys`` keep.
    """
    wanted = {key: request.args.get(key) for key in keys}
    items = [record for record in listing_pool(by_project, everything)
             if all(value is None or record[key] == value for key, value in wanted.items())
             and (where is None or where(record))]
    items.sort(key=lambda record: (record["created_at"], record["id"]), reverse=True)
    return paginate(items)


def listing_pool(by_project: dict, everything: dict):
    """The records a listing starts from: the caller's, or every project's for admins."""
    who = caller()
    raw = request.args.get("all_tenants")
    if who.is_admin and raw is not None and (raw == "" or to_bool("all_tenants", raw)):
        wanted = request.args.get("project_id")
        return by_project.get(wanted, {}).values() if wanted else everything.values()
    return by_project.get(who.project_id, {}).values()
