"""Rules the resource policies are built from."""

from oslo_policy import policy

ADMIN = "rule:admin_api"
ADMIN_OR_OWNER = "rule:admin_or_owner"
ADMIN_OR_MEMBER = "rule:admin_or_member"
ANY = "@"

rules = [
    policy.RuleDefault("admin_api", "role:admin", description="Cloud administrator."),
    policy.RuleDefault("owner", "project_id:%(project_id)s",
                       description="A member (any role) of the project the request is about."),
    policy.RuleDefault("admin_or_owner", "rule:admin_api or rule:owner",
                       description="An administrator, or the project itself."),
    policy.RuleDefault("admin_or_member", "rule:admin_api or (rule:owner and role:member)",
                       description="An administrator, or a member of the project (not a "
                       "reader only): what changes a project's resources."),
]


def list_rules():
    return rules
