"""Rules the resource policies are built from.

Who is a cloud administrator (``admin_api``) depends on ``[oslo_policy]
enforce_new_defaults``, which Kingbird turns off by default (``kingbird.config``):

- off (the default, OpenStack's legacy behaviour): the admin role on *any*
  project, or on the system (a ``system_scope: all`` token), is a cloud
  administrator, of every project;
- on: only the admin role on the system is; the admin role on a project is then
  a member of that project like any other.

A domain-scoped token is never an administrator's (the rule's ``scope_types``).
"""

from oslo_policy import policy

ADMIN = "rule:admin_api"
ADMIN_OR_OWNER = "rule:admin_or_owner"
ADMIN_OR_MEMBER = "rule:admin_or_member"
ANY = "@"

ADMIN_RULE = "admin_api"
SYSTEM_ADMIN = "role:admin and system_scope:all"
LEGACY_ADMIN = "role:admin"

rules = [
    policy.RuleDefault(
        ADMIN_RULE, SYSTEM_ADMIN, scope_types=["system", "project"],
        description="Cloud administrator: the admin role on the system; also the admin "
        "role on any project unless [oslo_policy] enforce_new_defaults is on.",
        deprecated_rule=policy.DeprecatedRule(
            ADMIN_RULE, LEGACY_ADMIN, deprecated_since="0.1.0",
            deprecated_reason="the admin role on one project should not make its holder "
            "the administrator of every project (OpenStack's legacy behaviour, kept while "
            "[oslo_policy] enforce_new_defaults is off)")),
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
