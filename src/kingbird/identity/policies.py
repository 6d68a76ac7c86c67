"""Who may see and rotate the Fernet keys, and who may fetch them (the agents)."""

from oslo_policy import policy

from kingbird.api import policy_base as base

PREFIX = "kingbird:fernet_keys"
AGENT = "rule:admin_api or role:service"

rules = [
    policy.DocumentedRuleDefault(
        f"{PREFIX}:show", base.ADMIN,
        "Show the Fernet key set (never its material), the Keystone nodes and rotations.",
        [{"method": "GET", "path": "/v1.0/{tenant}/os-fernet-keys"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:rotate", base.ADMIN,
        "Rotate the Fernet keys: stage a key, promote it once every node holds it.",
        [{"method": "POST", "path": "/v1.0/{tenant}/os-fernet-keys/rotate"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:import", base.ADMIN,
        "Take over an existing Keystone key repository as Kingbird's first key set.",
        [{"method": "POST", "path": "/v1.0/{tenant}/os-fernet-keys/import"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:sync", AGENT,
        "A Keystone node's agent reports and fetches the key set (key material!).",
        [{"method": "POST", "path": "/v1.0/{tenant}/os-fernet-keys/nodes/{node}/sync"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:forget_node", base.ADMIN,
        "Forget a decommissioned Keystone node (rotations stop waiting for it).",
        [{"method": "DELETE", "path": "/v1.0/{tenant}/os-fernet-keys/nodes/{node}"}]),
    policy.DocumentedRuleDefault(
        "kingbird:multisite_identity:show", base.ADMIN,
        "Show each region's identity: replication lag, key set versions, validation probe.",
        [{"method": "GET", "path": "/v1.0/{tenant}/os-multisite-identity"}]),
]


def list_rules():
    return rules
