"""Geo-site disaster recovery: ``os-dr`` protection plans, restore points, operations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from kingbird.client.http import HttpClient


@dataclass(frozen=True)
class ProtectionPlan:
    """A VNF's servers, where they run and recover, how and how often."""

    id: str
    name: str
    method: str
    source_region: str
    recovery_region: str
    current_region: str
    servers: list[str]
    status: str
    interval: int | None = None
    retention: int | None = None
    description: str | None = None
    project_id: str | None = None
    error: str | None = None
    next_restore_point_at: str | None = None
    restore_points: int | None = None
    latest_restore_point: dict | None = None
    created_at: str | None = None


@dataclass(frozen=True)
class RestorePoint:
    id: str
    plan_id: str
    status: str
    region: str | None = None
    target_region: str | None = None
    purpose: str | None = None
    taken_at: str | None = None
    completed_at: str | None = None
    size_gb: int = 0
    volumes: int = 0
    incremental: bool = False
    error: str | None = None
    steps: list[dict] = field(default_factory=list)
    backups: list[dict] = field(default_factory=list)
    shape: dict | None = None


@dataclass(frozen=True)
class Step:
    name: str
    description: str
    status: str
    detail: str | None = None
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Operation:
    """A failover or failback and its steps."""

    id: str
    plan_id: str
    kind: str
    status: str
    from_region: str
    to_region: str
    steps: list[Step]
    restore_point_id: str | None = None
    progress: str | None = None
    error: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


@dataclass(frozen=True)
class DryRun:
    """What a failover or failback would do."""

    kind: str
    from_region: str
    to_region: str
    steps: list[Step]
    restore_point: str | None = None
    restore_point_taken_at: str | None = None


def _pick(cls, item: Mapping[str, Any], **extra):
    names = cls.__dataclass_fields__
    return cls(**{k: v for k, v in item.items() if k in names}, **extra)


def _steps(items: Sequence[Mapping[str, Any]]) -> list[Step]:
    return [_pick(Step, s) for s in items]


def _operation(item: Mapping[str, Any]) -> Operation:
    return _pick(Operation, {k: v for k, v in item.items() if k != "steps"},
                 steps=_steps(item.get("steps") or []))


def _q(value: str) -> str:
    return quote(value, safe="")


class DrManager:
    """The verbs on ``os-dr``. Plans belong to the caller's project; administrators
    reach any plan and operation by id. Failover and failback are admin only."""

    def __init__(self, http: HttpClient):
        self._http = http

    # -- plans --------------------------------------------------------------------------

    def create_plan(self, name: str, servers: Sequence[str], source_region: str,
                    recovery_region: str, method: str = "snapshot-backup",
                    interval: int | None = None, retention: int | None = None,
                    description: str | None = None) -> ProtectionPlan:
        """Protect servers (ids, in boot order) of the caller's project.

        :raises kingbird.client.exceptions.BadRequest: a field, a region, or a server that
            cannot be protected (named in the message).
        :raises kingbird.client.exceptions.NotFound: a server is not in the source region.
        :raises kingbird.client.exceptions.Conflict: a server is protected by another plan.
        """
        plan: dict[str, Any] = {"name": name, "servers": list(servers),
                                "source_region": source_region,
                                "recovery_region": recovery_region, "method": method}
        for key, value in (("interval", interval), ("retention", retention),
                           ("description", description)):
            if value is not None:
                plan[key] = value
        return _pick(ProtectionPlan, self._http.post("/os-dr/plans", {"plan": plan})["plan"])

    def list_plans(self, all_projects: bool = False) -> list[ProtectionPlan]:
        path = "/os-dr/plans" + ("?all_projects=1" if all_projects else "")
        return [_pick(ProtectionPlan, p) for p in self._http.get_all(path, "plans")]

    def get_plan(self, plan_id: str) -> ProtectionPlan:
        return _pick(ProtectionPlan, self._http.get(f"/os-dr/plans/{_q(plan_id)}")["plan"])

    def update_plan(self, plan_id: str, **changes: Any) -> ProtectionPlan:
        """Change ``name``, ``description``, ``interval`` or ``retention``."""
        body = {"plan": {k: v for k, v in changes.items() if v is not None}}
        return _pick(ProtectionPlan, self._http.put(f"/os-dr/plans/{_q(plan_id)}",
                                                    body)["plan"])

    def delete_plan(self, plan_id: str) -> None:
        """Delete a plan with its restore points (their backups are deleted).

        :raises kingbird.client.exceptions.Conflict: a failover or failback is running.
        """
        self._http.delete(f"/os-dr/plans/{_q(plan_id)}")

    # -- restore points -----------------------------------------------------------------

    def take_restore_point(self, plan_id: str) -> None:
        """Ask for a restore point now (it appears in ``list_restore_points``)."""
        self._http.post(f"/os-dr/plans/{_q(plan_id)}/restore-points", None)

    def list_restore_points(self, plan_id: str) -> list[RestorePoint]:
        points = self._http.get_all(f"/os-dr/plans/{_q(plan_id)}/restore-points",
                                    "restore_points")
        return [_pick(RestorePoint, p) for p in points]

    def get_restore_point(self, plan_id: str, point_id: str) -> RestorePoint:
        body = self._http.get(f"/os-dr/plans/{_q(plan_id)}/restore-points/{_q(point_id)}")
        return _pick(RestorePoint, body["restore_point"])

    def delete_restore_point(self, plan_id: str, point_id: str) -> None:
        self._http.delete(f"/os-dr/plans/{_q(plan_id)}/restore-points/{_q(point_id)}")

    # -- failover and failback ----------------------------------------------------------

    def _recover(self, plan_id: str, action: str, body: dict) -> Operation | DryRun:
        answer = self._http.post(f"/os-dr/plans/{_q(plan_id)}/{action}", {action: body})
        if "dry_run" in answer:
            dry = answer["dry_run"]
            return _pick(DryRun, {k: v for k, v in dry.items() if k != "steps"},
                         steps=_steps(dry["steps"]))
        return _operation(answer["operation"])

    def failover(self, plan_id: str, restore_point: str | None = None,
                 dry_run: bool = False) -> Operation | DryRun:
        """Fail the plan's VNF over to its recovery region (admin).

        :param restore_point: the restore point to restore; the newest when None.
        :param dry_run: only list the steps.
        :raises kingbird.client.exceptions.Conflict: the plan is not ACTIVE, or has no
            available restore point.
        """
        body: dict[str, Any] = {"dry_run": dry_run}
        if restore_point:
            body["restore_point"] = restore_point
        return self._recover(plan_id, "failover", body)

    def failback(self, plan_id: str, dry_run: bool = False) -> Operation | DryRun:
        """Bring a failed-over VNF back to its source region (admin)."""
        return self._recover(plan_id, "failback", {"dry_run": dry_run})

    def list_operations(self, plan_id: str | None = None) -> list[Operation]:
        path = "/os-dr/operations" + (f"?plan_id={_q(plan_id)}" if plan_id else "")
        return [_operation(o) for o in self._http.get_all(path, "operations")]

    def get_operation(self, operation_id: str) -> Operation:
        return _operation(self._http.get(f"/os-dr/operations/{_q(operation_id)}")["operation"])
