"""Authorisation through oslo.policy: defaults in code, an optional policy file.

Operators override rules in the file named by ``[oslo_policy] policy_file``
exactly as for any OpenStack service; ``[oslo_policy] enforce_new_defaults``
chooses who is a cloud administrator (``kingbird.api.policy_base``).

Two refusals come before any rule, because a rule cannot say them: a token scoped
to no project (unscoped, domain- or system-scoped) is refused unless it is a cloud
administrator's, and a request about a project it cannot name (an administrator's
system-scoped token on a route about "the token's project") is refused, where
oslo.policy's ``project_id:%(project_id)s`` would find an empty project equal to
an empty project.
"""

from __future__ import annotations

from collections.abc import Iterable

from oslo_config import cfg
from oslo_policy import policy

from kingbird.api import policy_base
from kingbird.api.context import RequestContext
from kingbird.core import exceptions


class Authoriser:
    """Checks one named rule for one request; a refusal is a ``Forbidden``."""

    def __init__(self, conf: cfg.ConfigOpts, rules: Iterable[policy.RuleDefault] = ()):
        """:param rules: the features' rule defaults; the shared base rules
        (``admin_api``, ``admin_or_owner``...) are always registered."""
        self.enforcer = policy.Enforcer(conf)
        # The legacy administrator is Kingbird's default on purpose (README, "Who is an
        # administrator"): no warning at every start that admin_api's default is "changing".
        self.enforcer.suppress_default_change_warnings = True
        self.enforcer.register_defaults([*policy_base.list_rules(), *rules])

    def is_admin(self, context: RequestContext) -> bool:
        """Whether the caller is a cloud administrator (the ``admin_api`` rule)."""
        return bool(self.enforcer.authorize(policy_base.ADMIN_RULE, {},
                                            context.policy_credentials(), do_raise=False))

    @staticmethod
    def require_project_scope(context: RequestContext) -> None:
        """:raises Forbidden: the token has no project and is not an administrator's."""
        if not context.project_id and not context.is_admin:
            raise exceptions.Forbidden(
                "the token is not scoped to a project: authenticate with a project scope "
                "(only a cloud administrator's token may have none)")

    def authorise(self, context: RequestContext, rule: str, target: dict) -> None:
        """:raises Forbidden: when ``rule`` does not allow ``context`` on ``target``,
        or ``target`` is about a project and names none."""
        self.require_project_scope(context)
        if "project_id" in target and not target["project_id"]:
            raise exceptions.Forbidden(
                f"policy does not allow {rule} to be performed: the request is about the "
                "token's project and the token has none; name the project in the URL "
                "(/v1.0/{project}/...) or use a project-scoped token")
        allowed = self.enforcer.authorize(rule, target, context.policy_credentials(),
                                          do_raise=False)
        if not allowed:
            raise exceptions.Forbidden(f"policy does not allow {rule} to be performed")
