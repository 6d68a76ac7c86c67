"""Strict checks of ``os-dr`` request bodies (pure): every refusal names the field.

What needs the regions (do the servers exist, are they volume-backed, do their
volumes replicate) is checked by ``kingbird.dr.api`` after these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kingbird.core import exceptions
from kingbird.dr.models import DR_METHODS

MAX_SERVERS = 50
MIN_INTERVAL = 60
MAX_INTERVAL = 366 * 86400
MAX_RETENTION = 100
_PLAN_KEYS = ("name", "description", "servers", "source_region", "recovery_region", "method",
              "interval", "retention")
_UPDATE_KEYS = ("name", "description", "interval", "retention")


@dataclass(frozen=True)
class PlanSpec:
    name: str
    description: str | None
    servers: tuple[str, ...]
    source_region: str
    recovery_region: str
    method: str
    interval: int
    retention: int


def _wrapped(body: Any, wrapper: str, allowed: Iterable[str]) -> dict:
    if not isinstance(body, dict) or wrapper not in body:
        raise exceptions.BadRequest(f"missing '{wrapper}' in request body")
    extra = set(body) - {wrapper}
    if extra:
        raise exceptions.BadRequest(f"unexpected keys in request body: "
                                    f"{', '.join(repr(k) for k in sorted(map(str, extra)))}")
    inner = body[wrapper]
    if not isinstance(inner, dict):
        raise exceptions.BadRequest(f"'{wrapper}' must be an object")
    extra = set(inner) - set(allowed)
    if extra:
        raise exceptions.BadRequest(
            f"unexpected keys in '{wrapper}': "
            f"{', '.join(repr(k) for k in sorted(map(str, extra)))}")
    return inner


def _text(inner: Mapping, key: str, field: str, required: bool = True,
          limit: int = 255) -> str | None:
    if key not in inner or inner[key] is None:
        if required:
            raise exceptions.BadRequest(f"missing '{field}' in request body")
        return None
    value = inner[key]
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise exceptions.BadRequest(f"'{field}' must be a non-empty string of at most "
                                    f"{limit} characters")
    return value


def _integer(inner: Mapping, key: str, field: str, low: int, high: int) -> int:
    value = inner.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise exceptions.BadRequest(f"'{field}' must be an integer, got {value!r:.40}")
    if not low <= value <= high:
        raise exceptions.BadRequest(f"'{field}' must be between {low} and {high}, got {value}")
    return value


def plan_request(body: Any) -> PlanSpec:
    """``{"plan": {...}}`` of a plan creation, every field checked.

    :raises BadRequest: naming the field at fault.
    """
    inner = _wrapped(body, "plan", _PLAN_KEYS)
    servers = inner.get("servers")
    if not isinstance(servers, list) or not servers:
        raise exceptions.BadRequest("'plan.servers' must be a non-empty list of server ids")
    if len(servers) > MAX_SERVERS:
        raise exceptions.BadRequest(f"'plan.servers' lists more than {MAX_SERVERS} servers")
    for server in servers:
        if not isinstance(server, str) or not server.strip() or len(server) > 64:
            raise exceptions.BadRequest(f"'plan.servers' must hold server ids, got "
                                        f"{server!r:.40}")
    duplicates = sorted({s for s in servers if servers.count(s) > 1})
    if duplicates:
        raise exceptions.BadRequest(f"'plan.servers' names server {duplicates[0]} twice")
    method = inner.get("method", "snapshot-backup")
    if method not in DR_METHODS:
        raise exceptions.BadRequest(f"'plan.method' must be one of {', '.join(DR_METHODS)}, "
                                    f"got {method!r:.40}")
    source = _text(inner, "source_region", "plan.source_region")
    recovery = _text(inner, "recovery_region", "plan.recovery_region")
    if source == recovery:
        raise exceptions.BadRequest(f"'plan.recovery_region' must differ from "
                                    f"'plan.source_region' (both are {source})")
    return PlanSpec(
        name=_text(inner, "name", "plan.name") or "",
        description=_text(inner, "description", "plan.description", required=False,
                          limit=1024),
        servers=tuple(servers), source_region=source or "", recovery_region=recovery or "",
        method=method,
        interval=_integer(inner, "interval", "plan.interval", MIN_INTERVAL, MAX_INTERVAL)
        if "interval" in inner else 3600,
        retention=_integer(inner, "retention", "plan.retention", 1, MAX_RETENTION)
        if "retention" in inner else 3)


def plan_update(body: Any) -> dict[str, Any]:
    """``{"plan": {name?, description?, interval?, retention?}}`` → the changes."""
    inner = _wrapped(body, "plan", _UPDATE_KEYS)
    if not inner:
        raise exceptions.BadRequest(f"'plan' must change at least one of "
                                    f"{', '.join(_UPDATE_KEYS)}")
    changes: dict[str, Any] = {}
    if "name" in inner:
        changes["name"] = _text(inner, "name", "plan.name")
    if "description" in inner:
        changes["description"] = _text(inner, "description", "plan.description",
                                       required=False, limit=1024)
    if "interval" in inner:
        changes["interval"] = _integer(inner, "interval", "plan.interval", MIN_INTERVAL,
                                       MAX_INTERVAL)
    if "retention" in inner:
        changes["retention"] = _integer(inner, "retention", "plan.retention", 1,
                                        MAX_RETENTION)
    return changes


def recovery_request(body: Any, action: str, allow_point: bool) -> tuple[str | None, bool]:
    """``{action: {"restore_point"?: id, "dry_run"?: bool}}`` (or no body) →
    ``(restore point id or None for the latest, dry run)``."""
    if body is None:
        return None, False
    inner = _wrapped(body, action, ("restore_point", "dry_run") if allow_point
                     else ("dry_run",))
    point = inner.get("restore_point")
    if point is not None and (not isinstance(point, str) or not point.strip()):
        raise exceptions.BadRequest(f"'{action}.restore_point' must be a restore point id")
    dry_run = inner.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise exceptions.BadRequest(f"'{action}.dry_run' must be true or false")
    return point, dry_run


def check_regions(spec: PlanSpec, known: Iterable[str]) -> None:
    """:raises BadRequest: a region of the plan is not in the catalog."""
    known = sorted(known)
    for field, region in (("source_region", spec.source_region),
                          ("recovery_region", spec.recovery_region)):
        if region not in known:
            raise exceptions.BadRequest(f"unknown region {region!r:.80} in 'plan.{field}'; "
                                        f"known regions: {', '.join(known) or 'none'}")
