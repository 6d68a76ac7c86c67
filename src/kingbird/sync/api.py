"""Resource synchronisation jobs: ``os-sync``.

A POST is checked completely before anything is stored: the body, the regions
(against the catalog), the caller's right to the resource type, and that every
resource exists in its source region — asked live, with the service's
credentials, for the job's user and project, in parallel and within
``[regions] detail_deadline`` (``kingbird.sync.lookups``). Only then is the job
written, with one entry per (resource, target region), for the engines to run.

Jobs belong to a project: the one in the URL (v1.0; an administrator may name
another) or the token's (v1.1). Nobody sees another project's jobs.
"""

from __future__ import annotations

from flask import Blueprint

from kingbird.api import pagination, validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions, check_tenant, describe_both
from kingbird.core import exceptions
from kingbird.regions.copying import Scope
from kingbird.sync import lookups, schemas
from kingbird.sync import repository as jobs_db
from kingbird.sync import validation as sync_validation

bp = Blueprint("sync_jobs", __name__)

POLICY = "kingbird:sync"


def _project(tenant: str | None) -> str:
    ctx = check_tenant(tenant)
    return tenant or ctx.project_id


def _region_access():
    """The copiers and the fan-out that reach the regions.

    :raises ServiceUnavailable: no regions are configured.
    """
    copiers, fanout = services().copiers, services().fanout
    if copiers is None or fanout is None:
        raise exceptions.ServiceUnavailable("no regions are configured")
    return copiers, fanout


def create(tenant: str | None = None):
    ctx = check_tenant(tenant)
    project = tenant or ctx.project_id
    authorise(f"{POLICY}:create", {"project_id": project})
    specs = sync_validation.sync_request(validation.json_body(parse=sync_validation.loads))
    copiers, fanout = _region_access()
    if any(copiers[s.resource_type].admin_only for s in specs):
        authorise(f"{POLICY}:create_flavor", {"project_id": project})
    sync_validation.check_regions(specs, services().directory.regions())
    located = lookups.locate(specs, Scope(project_id=project, user_id=ctx.user_id), copiers,
                             fanout, deadline=services().conf.regions.detail_deadline)
    entries = sync_validation.plan_entries(specs, located)
    with services().db() as session:
        job = jobs_db.create_job(session, project, ctx.user_id, entries,
                                 request_id=ctx.request_id or None)
    services().wake_engine()
    return json_response({"job_status": {"id": job["id"], "status": job["status"],
                                         "created_at": job["created_at"]}})


def _job_summary(job: jobs_db.Job) -> dict:
    return {"id": job["id"], "sync_status": job["status"], "created_at": job["created_at"],
            "updated_at": job["updated_at"]}


def _list(tenant: str | None, active_only: bool):
    project = _project(tenant)
    authorise(f"{POLICY}:list", {"project_id": project})
    page = pagination.requested()
    with services().db() as session:
        after = None
        if page.marker is not None:
            after = jobs_db.get_job(session, project, page.marker)
            if after is None:
                raise pagination.marker_not_found(page.marker)
        jobs = jobs_db.list_jobs(session, project, active_only=active_only, after=after,
                                 limit=page.limit + 1)
    return json_response(pagination.body("job_set", jobs[:page.limit], len(jobs) > page.limit,
                                         page, _job_summary))


def list_jobs(tenant: str | None = None):
    return _list(tenant, active_only=False)


def list_active_jobs(tenant: str | None = None):
    return _list(tenant, active_only=True)


def _entry_view(entry: jobs_db.JobEntry) -> dict:
    # The original service's keys, plus ``entry_id`` and ``error`` (why it failed).
    return {"id": entry["job_id"], "entry_id": entry["id"], "resource": entry["resource"],
            "resource_type": entry["resource_type"], "source_region": entry["source_region"],
            "target_region": entry["target_region"],
            "sync_status": "IN_PROGRESS" if entry["status"] == "QUEUED" else entry["status"],
            "error": entry["error"], "created_at": entry["created_at"],
            "updated_at": entry["updated_at"]}


def show(job_id: str, tenant: str | None = None):
    project = _project(tenant)
    authorise(f"{POLICY}:show", {"project_id": project})
    with services().db() as session:
        job = jobs_db.get_job(session, project, job_id)
        if job is None:
            raise exceptions.NotFound(f"job {job_id} not found")
        entries = jobs_db.get_job_entries(session, job_id)
    return json_response({"job_set": [_entry_view(e) for e in entries]})


def delete(job_id: str, tenant: str | None = None):
    project = _project(tenant)
    authorise(f"{POLICY}:delete", {"project_id": project})
    with services().db() as session:
        if not jobs_db.delete_job(session, project, job_id):
            raise exceptions.NotFound(f"job {job_id} not found")
    return json_response({"job_status": {"id": job_id, "status": "deleted"}})


both_versions(bp, "/os-sync", create, ["POST"])
both_versions(bp, "/os-sync", list_jobs, ["GET"])
both_versions(bp, "/os-sync/active", list_active_jobs, ["GET"])
both_versions(bp, "/os-sync/<uuid:job_id>", show, ["GET"])
both_versions(bp, "/os-sync/<uuid:job_id>", delete, ["DELETE"])

# --- OpenAPI -------------------------------------------------------------------------

_ERROR = {"type": "object"}

describe_both("POST", "/os-sync", "Create a resource sync job", "sync",
              request=schemas.CREATE_JOB,
              responses={200: schemas.CREATED, 409: _ERROR, 502: _ERROR})
describe_both("GET", "/os-sync", "The project's sync jobs", "sync",
              responses={200: schemas.JOBS}, query=pagination.QUERY)
describe_both("GET", "/os-sync/active", "The project's sync jobs still running", "sync",
              responses={200: schemas.JOBS}, query=pagination.QUERY)
describe_both("GET", "/os-sync/<uuid:job_id>", "The entries of a sync job", "sync",
              responses={200: schemas.ENTRIES})
describe_both("DELETE", "/os-sync/<uuid:job_id>", "Forget a finished sync job", "sync",
              responses={200: schemas.DELETED, 406: _ERROR})
