"""Resource synchronisation jobs: ``os-sync``.

A POST is checked completely before anything is stored: the body, the regions
(against the catalog), the caller's right to the resource type, and that every
resource exists in its source region — asked live, with the service's
credentials, for the job's user and project. Only then is the job written, with
one entry per (resource, target region), for the engines to run.

Jobs belong to a project: the one in the URL (v1.0; an administrator may name
another) or the token's (v1.1). Nobody sees another project's jobs.
"""

from __future__ import annotations

from flask import Blueprint

from kingbird.api import validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions, check_tenant, describe_both
from kingbird.core import exceptions
from kingbird.regions.copying import Scope
from kingbird.sync import repository as jobs_db
from kingbird.sync import validation as sync_validation
from kingbird.sync.validation import Located, SyncSpec

bp = Blueprint("sync_jobs", __name__)

POLICY = "kingbird:sync"


def _project(tenant: str | None) -> str:
    ctx = check_tenant(tenant)
    return tenant or ctx.project_id


def _copiers():
    copiers = services().copiers
    if copiers is None:
        raise exceptions.ServiceUnavailable("no regions are configured")
    return copiers


def _locate(specs: list[SyncSpec], scope: Scope) -> dict[tuple[int, str], Located]:
    """Find each resource in its set's sources, in order.

    :raises NotFound: naming the first resource that is in none of them.
    :raises Conflict: a name designates several resources.
    """
    copiers = _copiers()
    located: dict[tuple[int, str], Located] = {}
    for index, spec in enumerate(specs):
        copier = copiers[spec.resource_type]
        for resource in spec.resources:
            for source in spec.sources:
                found = copier.locate(source, scope, resource)
                if len(found) > 1:
                    raise exceptions.Conflict(
                        f"{len(found)} {spec.resource_type.replace('_', ' ')}s are named "
                        f"{resource!r} in {source}: give the id")
                if found:
                    identity = str(found[0].get("id") or found[0].get("name") or resource)
                    located[(index, resource)] = Located(source, identity)
                    break
            else:
                where = " or ".join(spec.sources)
                raise exceptions.NotFound(
                    f"{spec.resource_type.replace('_', ' ')} {resource!r} not found in {where}")
    return located


def create(tenant: str | None = None):
    ctx = check_tenant(tenant)
    project = tenant or ctx.project_id
    authorise(f"{POLICY}:create", {"project_id": project})
    specs = sync_validation.sync_request(validation.json_body(parse=sync_validation.loads))
    copiers = _copiers()
    if any(copiers[s.resource_type].admin_only for s in specs):
        authorise(f"{POLICY}:create_flavor", {"project_id": project})
    sync_validation.check_regions(specs, services().directory.regions())
    located = _locate(specs, Scope(project_id=project, user_id=ctx.user_id))
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
    with services().db() as session:
        jobs = jobs_db.list_jobs(session, project, active_only=active_only)
    return json_response({"job_set": [_job_summary(j) for j in jobs]})


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
both_versions(bp, "/os-sync/", list_jobs, ["GET"])
both_versions(bp, "/os-sync/active", list_active_jobs, ["GET"])
both_versions(bp, "/os-sync/<job_id>", show, ["GET"])
both_versions(bp, "/os-sync/<job_id>", delete, ["DELETE"])

# --- OpenAPI -------------------------------------------------------------------------

_NAMES = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
_REGIONS = {"oneOf": [{"type": "string"}, _NAMES]}
_SET = {"type": "object", "required": ["resources", "resource_type", "source", "target"],
        "additionalProperties": False,
        "properties": {"resources": _NAMES,
                       "resource_type": {"type": "string",
                                         "enum": ["keypair", "flavor", "image",
                                                  "security_group"]},
                       "source": _REGIONS, "target": _REGIONS,
                       "force": {"oneOf": [{"type": "boolean"},
                                           {"type": "string", "enum": ["True", "False"]}]}}}
_TEMPLATE = {"type": "object", "required": ["Sync"], "additionalProperties": False,
             "properties": {"Sync": {"type": "array", "minItems": 1, "items": _SET}}}
_CREATE = {"type": "object", "required": ["resource_set"], "additionalProperties": False,
           "properties": {"resource_set": {"oneOf": [_SET, _TEMPLATE]}}}
_STATUS = {"type": "string", "enum": ["IN_PROGRESS", "SUCCESS", "FAILURE"]}
_TIME = {"type": "string", "format": "date-time"}
_CREATED = {"type": "object", "required": ["job_status"], "properties": {"job_status": {
    "type": "object", "required": ["id", "status", "created_at"],
    "properties": {"id": {"type": "string"}, "status": _STATUS, "created_at": _TIME}}}}
_JOBS = {"type": "object", "required": ["job_set"], "properties": {"job_set": {
    "type": "array", "items": {
        "type": "object", "required": ["id", "sync_status", "created_at", "updated_at"],
        "properties": {"id": {"type": "string"}, "sync_status": _STATUS,
                       "created_at": _TIME, "updated_at": _TIME}}}}}
_ENTRIES = {"type": "object", "required": ["job_set"], "properties": {"job_set": {
    "type": "array", "items": {
        "type": "object",
        "required": ["id", "resource", "source_region", "target_region", "resource_type",
                     "sync_status", "created_at", "updated_at"],
        "properties": {"id": {"type": "string"}, "entry_id": {"type": "integer"},
                       "resource": {"type": "string"}, "resource_type": {"type": "string"},
                       "source_region": {"type": "string"},
                       "target_region": {"type": "string"}, "sync_status": _STATUS,
                       "error": {"type": "string", "nullable": True},
                       "created_at": _TIME, "updated_at": _TIME}}}}}
_DELETED = {"type": "object", "required": ["job_status"]}
_ERROR = {"type": "object"}

describe_both("POST", "/os-sync", "Create a resource sync job", "sync",
              request=_CREATE, responses={200: _CREATED, 409: _ERROR, 502: _ERROR})
describe_both("GET", "/os-sync", "The project's sync jobs", "sync", responses={200: _JOBS})
describe_both("GET", "/os-sync/", "The project's sync jobs", "sync", responses={200: _JOBS})
describe_both("GET", "/os-sync/active", "The project's sync jobs still running", "sync",
              responses={200: _JOBS})
describe_both("GET", "/os-sync/<job_id>", "The entries of a sync job", "sync",
              responses={200: _ENTRIES})
describe_both("DELETE", "/os-sync/<job_id>", "Forget a finished sync job", "sync",
              responses={200: _DELETED, 406: _ERROR})
