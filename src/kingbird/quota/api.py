"""Global limits of a project: ``os-quota-sets``.

Limits are stored by Kingbird; regional quotas follow them through the engine's
sync. Only ``detail`` asks the regions, live, because usage lives there.
"""

from __future__ import annotations

from flask import Blueprint

from kingbird.api import validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions, check_tenant, describe_both
from kingbird.core import exceptions
from kingbird.quota import limits as quota_limits
from kingbird.quota import repository as quota_db
from kingbird.quota import resolve as store
from kingbird.quota import schemas
from kingbird.quota import status_repository as status_db

bp = Blueprint("quotas", __name__)

POLICY = "kingbird:quota"


def _defaults(session) -> dict[str, int]:
    return store.defaults(session, services().conf)


def _effective(session, project_id: str) -> dict[str, int]:
    return store.project_limits(session, services().conf, project_id)


def show_defaults(tenant: str | None = None):
    check_tenant(tenant)
    authorise(f"{POLICY}:defaults", {})
    with services().db() as session:
        return json_response({"quota_set": _defaults(session)})


def show(project_id: str, tenant: str | None = None):
    check_tenant(tenant)
    validation.project_id(project_id)
    authorise(f"{POLICY}:show", {"project_id": project_id})
    with services().db() as session:
        return json_response({"quota_set": _effective(session, project_id)})


def update(project_id: str, tenant: str | None = None):
    check_tenant(tenant)
    validation.project_id(project_id)
    authorise(f"{POLICY}:update", {"project_id": project_id})
    limits = validation.request_body(schemas.UPDATE)["quota_set"]
    with services().db() as session:
        quota_db.set_project_limits(session, project_id, limits)
        status_db.request_project_sync(session, project_id)
    services().wake_engine()
    return json_response({"quota_set": limits})


def delete(project_id: str, tenant: str | None = None):
    check_tenant(tenant)
    validation.project_id(project_id)
    authorise(f"{POLICY}:delete", {"project_id": project_id})
    body = validation.request_body(schemas.DELETE, required=False)
    keys = None if body is None else list(dict.fromkeys(body["quota_set"]))
    with services().db() as session:
        removed = quota_db.delete_project_limits(session, project_id, keys)
        if not removed:
            what = "any of " + ", ".join(keys) if keys else "any global limit"
            raise exceptions.NotFound(f"project {project_id} has no {what}")
        status_db.request_project_sync(session, project_id)
    services().wake_engine()
    return json_response({"deleted": keys or "all"})


def detail(project_id: str, tenant: str | None = None):
    check_tenant(tenant)
    validation.project_id(project_id)
    authorise(f"{POLICY}:detail", {"project_id": project_id})
    with services().db() as session:
        limits = _effective(session, project_id)
        status = status_db.get_sync_status(session, project_id)
    regions = services().regions
    if regions is None:
        raise exceptions.ServiceUnavailable("no regions are configured")
    view = regions.read_project(project_id, deadline=services().conf.regions.detail_deadline)
    usage = quota_limits.total_usage(q.usage for q in view.regions.values())
    return json_response({"quota_set": {
        "limits": limits,
        "usage": usage,
        "remaining": quota_limits.remaining(limits, usage),
        "regions": {name: {"limits": q.limits, "usage": q.usage}
                    for name, q in sorted(view.regions.items())},
        "missing_regions": dict(sorted(view.failed.items())),
        "last_sync": status,
    }})


def sync(project_id: str, tenant: str | None = None):
    check_tenant(tenant)
    validation.project_id(project_id)
    authorise(f"{POLICY}:sync", {"project_id": project_id})
    with services().db() as session:
        status_db.request_project_sync(session, project_id)
    services().wake_engine()
    return json_response({"quota_sync": {"project_id": project_id, "status": "requested"}})


both_versions(bp, "/os-quota-sets/defaults", show_defaults, ["GET"])
both_versions(bp, "/os-quota-sets/<project_id>", show, ["GET"])
both_versions(bp, "/os-quota-sets/<project_id>", update, ["PUT"])
both_versions(bp, "/os-quota-sets/<project_id>", delete, ["DELETE"])
both_versions(bp, "/os-quota-sets/<project_id>/detail", detail, ["GET"])
both_versions(bp, "/os-quota-sets/<project_id>/sync", sync, ["PUT"])

# --- OpenAPI -------------------------------------------------------------------------

describe_both("GET", "/os-quota-sets/defaults", "Default global limits", "quotas",
              responses={200: schemas.QUOTA_SET})
describe_both("GET", "/os-quota-sets/<project_id>", "A project's global limits", "quotas",
              responses={200: schemas.QUOTA_SET})
describe_both("PUT", "/os-quota-sets/<project_id>", "Set global limits", "quotas",
              request=schemas.UPDATE, responses={200: schemas.UPDATED})
describe_both("DELETE", "/os-quota-sets/<project_id>",
              "Drop the listed global limits, or all of them without a body", "quotas",
              request=schemas.DELETE, request_required=False,
              responses={200: {"type": "object"}})
describe_both("GET", "/os-quota-sets/<project_id>/detail",
              "Global limits and usage summed over regions", "quotas",
              responses={200: schemas.DETAIL, 503: {"type": "object"}})
describe_both("PUT", "/os-quota-sets/<project_id>/sync", "Sync a project now", "quotas",
              responses={200: schemas.SYNC})
