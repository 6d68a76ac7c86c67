"""Geo-site disaster recovery of VNFs: ``os-dr``.

A protection plan names the servers of a VNF in a source region, a recovery
region, a method (``snapshot-backup``: Nova snapshots and incremental Cinder
backups whose records Kingbird keeps; ``replication``: Cinder volumes that
replicate to the recovery region), an interval and a retention. Creating one
checks everything first — the body, the regions, that each server exists in the
project, boots from a volume (and its volumes replicate, for ``replication``),
and then that it is not protected by another plan — then records a Keystone trust from the
creator to Kingbird, so that engines can later create volumes and servers in
the project. Engines take restore points on schedule (and on request).

Failover and failback are administrators' actions only, and never automatic: a
POST queues the operation (``dry_run`` lists its steps instead), whose progress
step by step is ``GET os-dr/operations/{id}``. Administrators reach any plan
and operation by id; everybody else those of their project.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, request

from kingbird.api import pagination, validation
from kingbird.api.app_services import region_clients, services
from kingbird.api.context import RequestContext
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions, check_tenant, describe_both
from kingbird.core import exceptions
from kingbird.dr import plan_repository as plans_db
from kingbird.dr import retention
from kingbird.dr import schemas as dr_schemas
from kingbird.dr import steps as dr_steps
from kingbird.dr import validation as dr_validation
from kingbird.dr import workflow_repository as workflows_db
from kingbird.regions.clients import Clients
from kingbird.regions.trusts import Trusts

bp = Blueprint("dr", __name__)

POLICY = "kingbird:dr"
_OPERATION_ACTIVE = ("QUEUED", "IN_PROGRESS")


def _scope(tenant: str | None) -> tuple[RequestContext, str]:
    ctx = check_tenant(tenant)
    return ctx, tenant or ctx.project_id


def _directory():
    return region_clients().directory


def _admin_clients() -> Clients:
    return region_clients().service


def _plan(session, ctx: RequestContext, project: str, plan_id: str) -> plans_db.Plan:
    plan = (plans_db.find_plan(session, plan_id) if ctx.is_admin
            else plans_db.get_plan(session, project, plan_id))
    if plan is None:
        raise exceptions.NotFound(f"protection plan {plan_id} not found")
    return plan


# -- views ------------------------------------------------------------------------------

def _plan_view(plan: plans_db.Plan, points: list | None = None) -> dict:
    view = {key: plan[key] for key in (
        "id", "name", "description", "project_id", "method", "recovery_region",
        "current_region", "servers", "interval", "retention", "status", "error",
        "next_restore_point_at", "created_at", "updated_at")}
    view["source_region"] = plan["home_region"]
    if points is not None:
        latest = retention.latest_available(points)
        view["restore_points"] = sum(1 for p in points if p["status"] == "AVAILABLE")
        view["latest_restore_point"] = None if latest is None else {
            "id": latest["id"], "taken_at": latest["taken_at"], "region": latest["region"]}
    return view


def _point_view(point: workflows_db.RestorePointRow, detail: bool = False) -> dict:
    view = {key: point[key] for key in (
        "id", "plan_id", "sequence", "status", "purpose", "method", "region", "target_region",
        "taken_at", "completed_at", "created_at", "size_gb", "error")}
    view["volumes"] = len(point["volumes"] or [])
    view["incremental"] = any(v.get("incremental") for v in point["volumes"] or [])
    if detail:
        view["steps"] = point["steps"]
        view["shape"] = point["shape"]
        # The exported records themselves stay with Kingbird (export is an admin action).
        view["backups"] = [{k: v.get(k) for k in ("volume_id", "server_id", "device", "boot",
                                                  "size", "backup_id", "incremental",
                                                  "replica")}
                           for v in point["volumes"] or []]
    return view


def _operation_view(op: workflows_db.OperationRow) -> dict:
    view = {key: op[key] for key in (
        "id", "plan_id", "project_id", "kind", "status", "restore_point_id", "from_region",
        "to_region", "requested_by", "error", "created_at", "started_at", "finished_at")}
    view["progress"] = dr_steps.summary(op["steps"])
    view["steps"] = op["steps"]
    return view


# -- plans ------------------------------------------------------------------------------

def _check_servers(spec: dr_validation.PlanSpec, project: str) -> None:
    """Each server exists in the project in the source region and can be protected."""
    admin = _admin_clients()
    region = spec.source_region
    for server_id in spec.servers:
        server = admin.servers.get(region, server_id)
        if server is None or server.get("tenant_id") != project:
            raise exceptions.NotFound(f"server {server_id} not found in {region} "
                                      f"(project {project})")
        if server["status"] not in ("ACTIVE", "SHUTOFF"):
            raise exceptions.Conflict(f"server {server['name']} ({server_id}) is "
                                      f"{server['status']}")
        if server.get("image"):
            raise exceptions.BadRequest(
                f"server {server['name']} ({server_id}) boots from an image: only servers "
                "booted from a volume can be protected")
        if spec.method != dr_steps.REPLICATION:
            continue
        for attachment in admin.servers.attachments(region, server_id):
            volume = admin.volumes.get(region, attachment["volumeId"]) or {}
            if volume.get("replication_status") != "enabled":
                raise exceptions.BadRequest(
                    f"volume {attachment['volumeId']} of server {server['name']} does not "
                    f"replicate (replication_status {volume.get('replication_status')}): use "
                    "a volume type with replication_enabled='<is> True', or the "
                    "snapshot-backup method")


def _check_overlap(session, spec: dr_validation.PlanSpec) -> None:
    taken = plans_db.plans_protecting(session, spec.source_region, spec.servers)
    if taken:
        server_id, plan_id = sorted(taken.items())[0]
        raise exceptions.Conflict(f"server {server_id} is already protected by plan "
                                  f"{plan_id}")


def create_plan(tenant: str | None = None):
    ctx, project = _scope(tenant)
    authorise(f"{POLICY}:create_plan", {"project_id": project})
    spec = dr_validation.plan_request(validation.json_body())
    directory = _directory()
    dr_validation.check_regions(spec, directory.regions())
    if ctx.project_id != project or not ctx.auth_token:
        raise exceptions.BadRequest(
            f"create the plan with a token scoped to its project ({project}): Kingbird acts "
            "there through a trust from the plan's creator")
    # Ownership first: of a server of another project a member learns only that it is
    # not found in theirs, never that it is protected, nor by which plan.
    _check_servers(spec, project)
    with services().db() as session:
        _check_overlap(session, spec)
    trusts = Trusts(directory.session, services().conf.regions.interface)
    trust_id = trusts.create(ctx.auth_token, ctx.user_id, project, ctx.roles)
    try:
        with services().db() as session:
            _check_overlap(session, spec)
            plan = plans_db.create_plan(session, {
                "project_id": project, "user_id": ctx.user_id, "name": spec.name,
                "description": spec.description, "method": spec.method,
                "home_region": spec.source_region, "recovery_region": spec.recovery_region,
                "servers": list(spec.servers), "interval": spec.interval,
                "retention": spec.retention, "trust_id": trust_id})
    except Exception:
        trusts.delete(trust_id)
        raise
    services().wake_engine()
    return json_response({"plan": _plan_view(plan, [])}, 201)


def list_plans(tenant: str | None = None):
    ctx, project = _scope(tenant)
    authorise(f"{POLICY}:list_plans", {"project_id": project})
    everyone = ctx.is_admin and request.args.get("all_projects") in ("1", "true", "True")
    with services().db() as session:
        plans = plans_db.list_plans(session, None if everyone else project)
    return json_response(pagination.listing("plans", plans, _plan_view))


def show_plan(plan_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:show_plan", {"project_id": plan["project_id"]})
        points = workflows_db.list_restore_points(session, plan_id)
    return json_response({"plan": _plan_view(plan, points)})


def update_plan(plan_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    changes = dr_validation.plan_update(validation.json_body())
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:update_plan", {"project_id": plan["project_id"]})
        if plan["status"] == "DELETING":
            raise exceptions.Conflict(f"protection plan {plan_id} is being deleted")
        if "interval" in changes and plan["next_restore_point_at"] is not None:
            last = plan["next_restore_point_at"] - dt.timedelta(seconds=plan["interval"])
            changes["next_restore_point_at"] = last + dt.timedelta(seconds=changes["interval"])
        plans_db.update_plan(session, plan_id, changes)
        plan = plans_db.find_plan(session, plan_id)
    return json_response({"plan": _plan_view(plan)})


def delete_plan(plan_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:delete_plan", {"project_id": plan["project_id"]})
        if not plans_db.update_plan(session, plan_id, {"status": "DELETING"},
                                    expected_status=("ACTIVE", "FAILED_OVER", "DELETING")):
            raise exceptions.Conflict(f"protection plan {plan_id} is {plan['status']}: wait "
                                      "for the operation to finish")
    services().wake_engine()
    return json_response({"plan": {"id": plan_id, "status": "DELETING"}}, 202)


# -- restore points ---------------------------------------------------------------------

def create_restore_point(plan_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    validation.request_body(dr_schemas.RESTORE_POINT_REQUEST, required=False)
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:create_restore_point", {"project_id": plan["project_id"]})
        if plan["status"] != "ACTIVE":
            raise exceptions.Conflict(f"protection plan {plan_id} is {plan['status']}: "
                                      "restore points are taken while it is ACTIVE")
        plans_db.request_restore_point(session, plan_id)
    services().wake_engine()
    return json_response({"restore_point_request": {"plan_id": plan_id,
                                                    "status": "requested"}}, 202)


def list_restore_points(plan_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:list_restore_points", {"project_id": plan["project_id"]})
        points = workflows_db.list_restore_points(session, plan_id)
    return json_response(pagination.listing("restore_points", points, _point_view))


def show_restore_point(plan_id: str, point_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:list_restore_points", {"project_id": plan["project_id"]})
        point = workflows_db.get_restore_point(session, point_id, plan_id)
    if point is None:
        raise exceptions.NotFound(f"restore point {point_id} not found in plan {plan_id}")
    return json_response({"restore_point": _point_view(point, detail=True)})


def delete_restore_point(plan_id: str, point_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:delete_restore_point", {"project_id": plan["project_id"]})
        point = workflows_db.get_restore_point(session, point_id, plan_id)
        if point is None:
            raise exceptions.NotFound(f"restore point {point_id} not found in plan {plan_id}")
        busy = [o["id"] for o in workflows_db.list_operations(session, plan_id=plan_id)
                if o["status"] in _OPERATION_ACTIVE and o["restore_point_id"] == point_id]
        if busy or point["status"] == "CREATING" or not workflows_db.save(
                session, workflows_db.RESTORE_POINT, point_id, None, {"status": "DELETING"}):
            raise exceptions.Conflict(f"restore point {point_id} is in use "
                                      f"({'operation ' + busy[0] if busy else point['status']})")
    services().wake_engine()
    return json_response({"restore_point": {"id": point_id, "status": "DELETING"}}, 202)


# -- failover and failback --------------------------------------------------------------

def _chosen_point(session, plan: plans_db.Plan,
                  point_id: str | None) -> workflows_db.RestorePointRow:
    points = workflows_db.list_restore_points(session, plan["id"])
    if point_id is None:
        point = retention.latest_available(points, plan["current_region"])
        if point is None:
            raise exceptions.Conflict(f"protection plan {plan['id']} has no available "
                                      f"restore point taken in {plan['current_region']}")
        return point
    point = next((p for p in points if p["id"] == point_id), None)
    if point is None:
        raise exceptions.NotFound(f"restore point {point_id} not found in plan {plan['id']}")
    if point["status"] != "AVAILABLE" or point["region"] != plan["current_region"]:
        raise exceptions.Conflict(f"restore point {point_id} cannot be restored: it is "
                                  f"{point['status']}, taken in {point['region']}")
    return point


def _start(tenant: str | None, plan_id: str, kind: str):
    ctx, project = _scope(tenant)
    point_id, dry_run = dr_validation.recovery_request(
        validation.json_body(required=False), kind, allow_point=kind == "failover")
    with services().db() as session:
        plan = _plan(session, ctx, project, plan_id)
        authorise(f"{POLICY}:{kind}", {"project_id": plan["project_id"]})
        wanted = "ACTIVE" if kind == "failover" else "FAILED_OVER"
        if plan["status"] != wanted:
            raise exceptions.Conflict(f"protection plan {plan_id} is {plan['status']}: a "
                                      f"{kind} needs it {wanted}")
        if kind == "failover":
            point = _chosen_point(session, plan, point_id)
            source, target = plan["current_region"], plan["recovery_region"]
        else:
            failovers = [o for o in workflows_db.list_operations(session, plan_id=plan_id)
                         if o["kind"] == "failover" and o["status"] == "SUCCESS"]
            if not failovers:
                raise exceptions.Conflict(f"protection plan {plan_id} was never failed over")
            # The VNF as the failover rebuilt it (its restore point may be pruned since).
            point = workflows_db.get_restore_point(session, failovers[-1]["restore_point_id"]) \
                or retention.latest_available(workflows_db.list_restore_points(session, plan_id))
            if point is None:
                raise exceptions.Conflict(f"protection plan {plan_id} has no restore point "
                                          "left to describe its VNF")
            source, target = plan["current_region"], plan["home_region"]
        steps = dr_steps.operation_steps(kind, plan["method"], point["shape"],
                                         point["volumes"], source, target)
        if dry_run:
            return json_response({"dry_run": {
                "plan_id": plan_id, "kind": kind, "from_region": source, "to_region": target,
                "restore_point": point["id"] if kind == "failover" else None,
                "restore_point_taken_at": point["taken_at"] if kind == "failover" else None,
                "steps": steps}})
        if not plans_db.update_plan(session, plan_id, {
                "status": "FAILING_OVER" if kind == "failover" else "FAILING_BACK",
                "error": None}, expected_status=(wanted,)):
            raise exceptions.Conflict(f"protection plan {plan_id} changed meanwhile; retry")
        op = workflows_db.create_operation(session, {
            "plan_id": plan_id, "project_id": plan["project_id"], "kind": kind,
            "restore_point_id": point["id"] if kind == "failover" else None,
            "from_region": source, "to_region": target, "requested_by": ctx.user_id,
            "request_id": ctx.request_id or None, "steps": steps})
    services().wake_engine()
    return json_response({"operation": _operation_view(op)}, 202)


def failover(plan_id: str, tenant: str | None = None):
    return _start(tenant, plan_id, "failover")


def failback(plan_id: str, tenant: str | None = None):
    return _start(tenant, plan_id, "failback")


def list_operations(tenant: str | None = None):
    ctx, project = _scope(tenant)
    authorise(f"{POLICY}:list_operations", {"project_id": project})
    plan_id = request.args.get("plan_id")
    with services().db() as session:
        # An administrator following a plan's operations sees them whatever its project.
        ops = workflows_db.list_operations(session, None if ctx.is_admin and plan_id else project,
                                           plan_id=plan_id)
    return json_response(pagination.listing("operations", ops, _operation_view))


def show_operation(operation_id: str, tenant: str | None = None):
    ctx, project = _scope(tenant)
    with services().db() as session:
        op = workflows_db.get_operation(session, operation_id,
                                        None if ctx.is_admin else project)
    if op is None:
        raise exceptions.NotFound(f"operation {operation_id} not found")
    authorise(f"{POLICY}:list_operations", {"project_id": op["project_id"]})
    return json_response({"operation": _operation_view(op)})


_PLAN = "/os-dr/plans/<uuid:plan_id>"
_POINT = f"{_PLAN}/restore-points/<uuid:point_id>"
ROUTES = [
    ("POST", "/os-dr/plans", create_plan, "Protect the servers of a VNF"),
    ("GET", "/os-dr/plans", list_plans, "The project's protection plans"),
    ("GET", _PLAN, show_plan, "A protection plan"),
    ("PUT", _PLAN, update_plan, "Change a plan's name, description, interval or retention"),
    ("DELETE", _PLAN, delete_plan, "Delete a plan, its restore points and their backups"),
    ("POST", f"{_PLAN}/restore-points", create_restore_point, "Take a restore point now"),
    ("GET", f"{_PLAN}/restore-points", list_restore_points, "A plan's restore points"),
    ("GET", _POINT, show_restore_point, "A restore point: shape, backups, steps"),
    ("DELETE", _POINT, delete_restore_point, "Delete a restore point and its backups"),
    ("POST", f"{_PLAN}/failover", failover,
     "Fail the VNF over to the recovery region (admin; dry_run lists the steps)"),
    ("POST", f"{_PLAN}/failback", failback,
     "Bring the VNF back to its source region (admin; dry_run lists the steps)"),
    ("GET", "/os-dr/operations", list_operations, "Failovers and failbacks"),
    ("GET", "/os-dr/operations/<uuid:operation_id>", show_operation,
     "A failover or failback, step by step"),
]

for _method, _rule, _view, _summary in ROUTES:
    both_versions(bp, _rule, _view, [_method])
    describe_both(_method, _rule, _summary, "dr", **dr_schemas.OPENAPI[(_method, _rule)])
