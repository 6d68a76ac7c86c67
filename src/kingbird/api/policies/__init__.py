"""Policy rules registered in code, one module per resource.

A module added here must also be listed in ``list_rules`` so that the enforcer
and ``oslopolicy-sample-generator`` both see it.
"""

import itertools

from kingbird.api import policy_base as base
from kingbird.dr import policies as dr
from kingbird.identity import policies as fernet
from kingbird.network import policies as networks
from kingbird.quota import policies as quotas
from kingbird.sync import policies as sync


def list_rules():
    return list(itertools.chain(base.list_rules(), quotas.list_rules(), sync.list_rules(),
                                fernet.list_rules(), networks.list_rules(),
                                dr.list_rules()))
