"""Who may create, read and delete resource sync jobs."""

from oslo_policy import policy

from kingbird.api import policy_base as base

PREFIX = "kingbird:sync"
_JOBS = "/v1.0/{tenant}/os-sync"

rules = [
    policy.DocumentedRuleDefault(
        f"{PREFIX}:create", base.ADMIN_OR_MEMBER,
        "Create a job copying the project's resources to other regions.",
        [{"method": "POST", "path": _JOBS}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:create_flavor", base.ADMIN,
        "Copy flavors (global to a region, so an administrator's business).",
        [{"method": "POST", "path": _JOBS}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:list", base.ADMIN_OR_OWNER, "List the project's sync jobs.",
        [{"method": "GET", "path": _JOBS}, {"method": "GET", "path": f"{_JOBS}/"},
         {"method": "GET", "path": f"{_JOBS}/active"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:show", base.ADMIN_OR_OWNER, "Show the entries of a sync job.",
        [{"method": "GET", "path": f"{_JOBS}/{{job_id}}"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:delete", base.ADMIN_OR_MEMBER, "Forget a finished sync job.",
        [{"method": "DELETE", "path": f"{_JOBS}/{{job_id}}"}]),
]


def list_rules():
    return rules
