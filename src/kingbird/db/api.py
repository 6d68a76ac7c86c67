"""Kingbird's repository functions, in one namespace.

Import this module (``from kingbird.db import api as db``) rather than the
modules behind it. Every function takes the ``Session`` of a transaction that
the caller opened at the edge (``kingbird.db.session.transaction``), never
commits, and returns plain dicts, lists and scalars, never ORM rows.
"""

from kingbird.db.jobs import (
    Job,
    JobEntry,
    claim_entries,
    create_job,
    delete_job,
    finish_entry,
    get_job,
    get_job_entries,
    job_status,
    list_jobs,
    renew_lease,
)
from kingbird.db.quotas import (
    delete_class,
    delete_project_limits,
    get_class_limits,
    get_project_limits,
    projects_with_limits,
    set_class_limits,
    set_project_limits,
)
from kingbird.db.sync_status import (
    SyncStatus,
    claim_project_sync,
    get_sync_status,
    projects_with_pending_sync_requests,
    record_sync_result,
    renew_project_lease,
    request_project_sync,
)

__all__ = [
    "Job",
    "JobEntry",
    "SyncStatus",
    "claim_entries",
    "claim_project_sync",
    "create_job",
    "delete_class",
    "delete_job",
    "delete_project_limits",
    "finish_entry",
    "get_class_limits",
    "get_job",
    "get_job_entries",
    "get_project_limits",
    "get_sync_status",
    "job_status",
    "list_jobs",
    "projects_with_limits",
    "projects_with_pending_sync_requests",
    "record_sync_result",
    "renew_lease",
    "renew_project_lease",
    "request_project_sync",
    "set_class_limits",
    "set_project_limits",
]
