"""``os-dr`` request bodies read into what the handlers need (pure).

Each body is checked against its schema in ``kingbird.dr.schemas`` (the one
``/openapi.json`` publishes), then for what a schema cannot say: the two regions
differ and are in the catalog. Every refusal names the field. What needs the
regions (do the servers exist, are they volume-backed, do their volumes
replicate) is checked by ``kingbird.dr.api`` after these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kingbird.api import validation
from kingbird.core import exceptions
from kingbird.dr import schemas


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


def plan_request(body: Any) -> PlanSpec:
    """``{"plan": {...}}`` of a plan creation, every field checked.

    :raises BadRequest: naming the field at fault.
    """
    plan = validation.checked(schemas.CREATE_PLAN, body)["plan"]
    source, recovery = plan["source_region"], plan["recovery_region"]
    if source == recovery:
        raise exceptions.BadRequest(f"'plan.recovery_region' must differ from "
                                    f"'plan.source_region' (both are {source})")
    return PlanSpec(name=plan["name"], description=plan.get("description"),
                    servers=tuple(plan["servers"]), source_region=source,
                    recovery_region=recovery,
                    method=plan.get("method", schemas.DEFAULT_METHOD),
                    interval=plan.get("interval", schemas.DEFAULT_INTERVAL),
                    retention=plan.get("retention", schemas.DEFAULT_RETENTION))


def plan_update(body: Any) -> dict[str, Any]:
    """``{"plan": {name?, description?, interval?, retention?}}`` → the changes."""
    return dict(validation.checked(schemas.UPDATE_PLAN, body)["plan"])


def recovery_request(body: Any, action: str, allow_point: bool) -> tuple[str | None, bool]:
    """``{action: {"restore_point"?: id, "dry_run"?: bool}}`` (or no body) →
    ``(restore point id or None for the latest, dry run)``."""
    if body is None:
        return None, False
    inner = validation.checked(schemas.RECOVERY[(action, allow_point)], body)[action]
    return inner.get("restore_point"), inner.get("dry_run", False)


def check_regions(spec: PlanSpec, known: Iterable[str]) -> None:
    """:raises BadRequest: a region of the plan is not in the catalog."""
    known = sorted(known)
    for field, region in (("source_region", spec.source_region),
                          ("recovery_region", spec.recovery_region)):
        if region not in known:
            raise exceptions.BadRequest(f"unknown region {region!r:.80} in 'plan.{field}'; "
                                        f"known regions: {', '.join(known) or 'none'}")
