"""Who may protect VNFs, take restore points, and fail over or back (``os-dr``).

A project manages its own protection plans and restore points; failover and
failback are an administrator's decision only, never automatic.
"""

from oslo_policy import policy

from kingbird.api import policy_base as base

PREFIX = "kingbird:dr"
_PLANS = "/v1.0/{tenant}/os-dr/plans"
_PLAN = f"{_PLANS}/{{plan_id}}"
_POINTS = f"{_PLAN}/restore-points"
_OPERATIONS = "/v1.0/{tenant}/os-dr/operations"

rules = [
    policy.DocumentedRuleDefault(
        f"{PREFIX}:create_plan", base.ADMIN_OR_MEMBER,
        "Protect servers of the project with a protection plan.",
        [{"method": "POST", "path": _PLANS}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:list_plans", base.ADMIN_OR_OWNER, "List the project's protection plans.",
        [{"method": "GET", "path": _PLANS}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:show_plan", base.ADMIN_OR_OWNER, "Show a protection plan.",
        [{"method": "GET", "path": _PLAN}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:update_plan", base.ADMIN_OR_MEMBER,
        "Change a plan's name, description, interval or retention.",
        [{"method": "PUT", "path": _PLAN}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:delete_plan", base.ADMIN_OR_MEMBER,
        "Delete a protection plan and its restore points.",
        [{"method": "DELETE", "path": _PLAN}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:create_restore_point", base.ADMIN_OR_MEMBER,
        "Take a restore point now.", [{"method": "POST", "path": _POINTS}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:list_restore_points", base.ADMIN_OR_OWNER,
        "List a plan's restore points.",
        [{"method": "GET", "path": _POINTS},
         {"method": "GET", "path": f"{_POINTS}/{{point_id}}"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:delete_restore_point", base.ADMIN_OR_MEMBER,
        "Delete a restore point and its backups.",
        [{"method": "DELETE", "path": f"{_POINTS}/{{point_id}}"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:failover", base.ADMIN,
        "Fail a plan's VNF over to its recovery region (or list the steps: dry run).",
        [{"method": "POST", "path": f"{_PLAN}/failover"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:failback", base.ADMIN,
        "Bring a failed-over VNF back to its home region (or list the steps: dry run).",
        [{"method": "POST", "path": f"{_PLAN}/failback"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:list_operations", base.ADMIN_OR_OWNER,
        "List failovers and failbacks and follow their progress.",
        [{"method": "GET", "path": _OPERATIONS},
         {"method": "GET", "path": f"{_OPERATIONS}/{{operation_id}}"}]),
]


def list_rules():
    return rules
