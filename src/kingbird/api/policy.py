"""Authorisation through oslo.policy: defaults in code, an optional policy file.

Operators override rules in the file named by ``[oslo_policy] policy_file``
exactly as for any OpenStack service.
"""

from __future__ import annotations

from oslo_config import cfg
from oslo_policy import policy

from kingbird.api import policies
from kingbird.api.context import RequestContext
from kingbird.core import exceptions


class Authoriser:
    """Checks one named rule for one request; a refusal is a ``Forbidden``."""

    def __init__(self, conf: cfg.ConfigOpts):
        self.enforcer = policy.Enforcer(conf)
        self.enforcer.register_defaults(policies.list_rules())

    def authorise(self, context: RequestContext, rule: str, target: dict) -> None:
        """:raises Forbidden: when ``rule`` does not allow ``context`` on ``target``."""
        allowed = self.enforcer.authorize(rule, target, context.policy_credentials(),
                                          do_raise=False)
        if not allowed:
            raise exceptions.Forbidden(f"policy does not allow {rule} to be performed")


def list_rules():
    """Entry point for oslopolicy-sample-generator."""
    return policies.list_rules()
