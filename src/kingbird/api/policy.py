"""Authorisation through oslo.policy: defaults in code, an optional policy file.

Operators override rules in the file named by ``[oslo_policy] policy_file``
exactly as for any OpenStack service.
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
        self.enforcer.register_defaults([*policy_base.list_rules(), *rules])

    def authorise(self, context: RequestContext, rule: str, target: dict) -> None:
        """:raises Forbidden: when ``rule`` does not allow ``context`` on ``target``."""
        allowed = self.enforcer.authorize(rule, target, context.policy_credentials(),
                                          do_raise=False)
        if not allowed:
            raise exceptions.Forbidden(f"policy does not allow {rule} to be performed")

