"""Kingbird's repository functions, in one namespace.

Import this module (``from kingbird.db import api as db``) rather than the
modules behind it. Every function takes the ``Session`` of a transaction that
the caller opened at the edge (``kingbird.db.session.transaction``), never
commits, and returns plain dicts, lists and scalars, never ORM rows.
"""

from kingbird.network.policy_repository import (
    create_router,
    create_sg_rule,
    delete_router,
    delete_sg_rule,
    get_router,
    get_sg_rule,
    list_routers,
    list_sg_rules,
    mark_router_deleting,
    mark_sg_rule_deleting,
    routers_through,
    update_router,
    update_sg_rule,
)
from kingbird.network.reconcile_leases import (
    claim_object,
    due_objects,
    release_object,
    renew_object_lease,
    request_reconcile,
    set_object_status,
)
from kingbird.network.repository import (
    attach_port,
    block_segment,
    create_global_network,
    create_vip,
    delete_global_network,
    delete_vip,
    get_global_network,
    get_vip,
    list_global_networks,
    mark_network_deleting,
    network_ports,
    network_regions,
    network_vips,
    request_network_reconcile,
    save_network_ports,
    set_network_status,
    update_network_region,
    update_vip,
)
from kingbird.quota.region_state_repository import (
    RegionState,
    delete_region_states,
    get_region_states,
    save_region_states,
)
from kingbird.quota.repository import (
    delete_class,
    delete_project_limits,
    get_class_limits,
    get_project_limits,
    projects_with_limits,
    set_class_limits,
    set_project_limits,
)
from kingbird.quota.status_repository import (
    SyncStatus,
    claim_project_sync,
    get_sync_status,
    projects_with_pending_sync_requests,
    record_sync_result,
    renew_project_lease,
    request_project_sync,
)
from kingbird.sync.repository import (
    Job,
    JobEntry,
    claim_entries,
    create_job,
    delete_job,
    find_job,
    finish_entry,
    get_job,
    get_job_entries,
    job_status,
    list_jobs,
    record_checkpoint,
    renew_lease,
)

__all__ = [
    "Job",
    "JobEntry",
    "RegionState",
    "SyncStatus",
    "claim_entries",
    "claim_project_sync",
    "create_job",
    "delete_class",
    "delete_job",
    "delete_project_limits",
    "delete_region_states",
    "find_job",
    "finish_entry",
    "get_class_limits",
    "get_job",
    "get_job_entries",
    "get_project_limits",
    "get_region_states",
    "get_sync_status",
    "job_status",
    "list_jobs",
    "projects_with_limits",
    "projects_with_pending_sync_requests",
    "record_checkpoint",
    "record_sync_result",
    "renew_lease",
    "renew_project_lease",
    "request_project_sync",
    "save_region_states",
    "set_class_limits",
    "set_project_limits",
]

# Cross-region networking (kept apart from the list above, which other features extend).
__all__ += [
    "attach_port", "block_segment", "claim_object", "create_global_network", "create_router",
    "create_sg_rule", "create_vip", "delete_global_network", "delete_router", "delete_sg_rule",
    "delete_vip", "due_objects", "get_global_network", "get_router", "get_sg_rule", "get_vip",
    "list_global_networks", "list_routers", "list_sg_rules", "mark_network_deleting",
    "mark_router_deleting", "mark_sg_rule_deleting", "network_ports", "network_regions",
    "network_vips", "release_object", "renew_object_lease", "request_network_reconcile",
    "request_reconcile", "routers_through", "save_network_ports", "set_network_status",
    "set_object_status", "update_network_region", "update_router",
    "update_sg_rule", "update_vip",
]

# Scale-out: the schedule of periodic quota syncs, retries of sync job entries.
from kingbird.quota.schedule_repository import (  # noqa: E402
    ClaimedProject,
    claim_due_projects,
    release_project,
    schedule_projects,
)
from kingbird.sync.repository import retry_entry  # noqa: E402

__all__ += ["ClaimedProject", "claim_due_projects", "release_project", "retry_entry",
            "schedule_projects"]

# Geo-site disaster recovery: protection plans, restore points, recovery operations.
from kingbird.dr.plan_repository import (  # noqa: E402
    Plan,
    create_plan,
    delete_plan,
    due_plans,
    find_plan,
    get_plan,
    list_plans,
    plans_protecting,
    request_restore_point,
    take_schedule_slot,
    update_plan,
)
from kingbird.dr.workflow_repository import (  # noqa: E402
    OPERATION,
    RESTORE_POINT,
    OperationRow,
    RestorePointRow,
    create_operation,
    create_restore_point,
    delete_restore_point_row,
    get_operation,
    get_restore_point,
    list_operations,
    list_restore_points,
)
from kingbird.dr.workflow_repository import claim as claim_workflow  # noqa: E402
from kingbird.dr.workflow_repository import claimable as claimable_workflows  # noqa: E402
from kingbird.dr.workflow_repository import release as release_workflow  # noqa: E402
from kingbird.dr.workflow_repository import renew as renew_workflow  # noqa: E402
from kingbird.dr.workflow_repository import save as save_workflow  # noqa: E402

__all__ += [
    "OPERATION", "RESTORE_POINT", "OperationRow", "Plan", "RestorePointRow",
    "claim_workflow", "claimable_workflows", "create_operation", "create_plan",
    "create_restore_point", "delete_plan", "delete_restore_point_row", "due_plans",
    "find_plan", "get_operation", "get_plan", "get_restore_point", "list_operations",
    "list_plans", "list_restore_points", "plans_protecting", "release_workflow",
    "renew_workflow", "request_restore_point", "save_workflow", "take_schedule_slot",
    "update_plan",
]
