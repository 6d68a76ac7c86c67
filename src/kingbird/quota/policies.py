"""Who may read and change global limits and quota classes."""

from oslo_policy import policy

from kingbird.api import policy_base as base

PREFIX = "kingbird:quota"

rules = [
    policy.DocumentedRuleDefault(
        f"{PREFIX}:show", base.ADMIN_OR_OWNER, "Show a project's global limits.",
        [{"method": "GET", "path": "/v1.0/{tenant}/os-quota-sets/{project_id}"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:defaults", base.ANY, "Show the default global limits.",
        [{"method": "GET", "path": "/v1.0/{tenant}/os-quota-sets/defaults"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:detail", base.ADMIN_OR_OWNER,
        "Show a project's global limits and its usage summed over regions.",
        [{"method": "GET", "path": "/v1.0/{tenant}/os-quota-sets/{project_id}/detail"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:update", base.ADMIN, "Set a project's global limits.",
        [{"method": "PUT", "path": "/v1.0/{tenant}/os-quota-sets/{project_id}"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:delete", base.ADMIN, "Drop some or all of a project's global limits.",
        [{"method": "DELETE", "path": "/v1.0/{tenant}/os-quota-sets/{project_id}"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:sync", base.ADMIN, "Sync a project's regional quotas now.",
        [{"method": "PUT", "path": "/v1.0/{tenant}/os-quota-sets/{project_id}/sync"}]),
]

CLASS_PREFIX = "kingbird:quota_class"

rules += [
    policy.DocumentedRuleDefault(
        f"{CLASS_PREFIX}:show", base.ANY, "Show a quota class.",
        [{"method": "GET", "path": "/v1.0/{tenant}/os-quota-class-sets/{class_name}"}]),
    policy.DocumentedRuleDefault(
        f"{CLASS_PREFIX}:update", base.ADMIN, "Create or change a quota class.",
        [{"method": "PUT", "path": "/v1.0/{tenant}/os-quota-class-sets/{class_name}"}]),
    policy.DocumentedRuleDefault(
        f"{CLASS_PREFIX}:delete", base.ADMIN, "Delete a quota class.",
        [{"method": "DELETE", "path": "/v1.0/{tenant}/os-quota-class-sets/{class_name}"}]),
]


def list_rules():
    return rules
