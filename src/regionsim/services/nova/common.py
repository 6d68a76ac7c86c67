"""What every simulated Nova route shares: the blueprint, microversions, faults, links.

Nova answers errors as ``{"<faultName>": {"code": N, "message": "..."}}`` (the
fault names of ``nova.api.openstack.wsgi.Fault``, in ``_compute_style``).
Microversions are negotiated from ``OpenStack-API-Version: compute X.Y`` or the
legacy ``X-OpenStack-Nova-API-Version`` header and echoed back, as Nova does; on
top of the shared echo Nova repeats the request id as ``X-Compute-Request-Id``.
"""

from __future__ import annotations

import datetime

from flask import Blueprint, g, request

from regionsim.services._compute_style import FaultError, Microversions, fault_body
from regionsim.web import caller, json_body, json_response, region

bp = Blueprint("nova", __name__, url_prefix="/compute")

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 90)
API_PREFIX = "/compute/v2.1"


class NovaError(FaultError):
    """An error Nova would answer with its fault body and ``code``."""


_VERSIONS = Microversions("nova", "compute", MIN_VERSION, MAX_VERSION, NovaError,
                          legacy_header="X-OpenStack-Nova-API-Version")

bad_request = NovaError.bad_request
not_found = NovaError.not_found
policy_denied = NovaError.policy_denied
require_admin = NovaError.require_admin


def conflict(message: str) -> NovaError:
    return NovaError(409, message)


def forbidden(message: str) -> NovaError:
    return NovaError(403, message)


def require_project_or_admin(rule: str, project_id: str) -> None:
    """Nova's PROJECT_READER_OR_ADMIN: a member may read its own project only."""
    who = caller()
    if not who.is_admin and who.project_id != project_id:
        raise policy_denied(rule)


@bp.errorhandler(NovaError)
def _nova_fault(exc: NovaError):
    return json_response(fault_body(exc), exc.code)


bp.before_request(_VERSIONS.negotiate)


@bp.after_request
def _version_headers(response):
    _VERSIONS.echo(response)
    request_id = _VERSIONS.request_id()
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
