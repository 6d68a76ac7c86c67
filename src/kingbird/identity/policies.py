"""Who may see and rotate the Fernet keys, register Keystone nodes, and fetch the keys
(the agents, each for the node it is bound to)."""

from oslo_policy import policy

from kingbird.api import policy_base as base

PREFIX = "kingbird:fernet_keys"
# ``agent_role`` is put in the target by the handler: ``[fernet] agent_role``. Not
# ``role:service``: every OpenStack service account holds that role, and whoever
# holds the Fernet keys can forge a token for any user. The handler also checks that
# the caller is the agent user the node was registered with.
AGENT = "role:%(agent_role)s"

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
        f"{PREFIX}:import", f"{base.ADMIN} or {AGENT}",
        "Take over an existing Keystone key repository as Kingbird's first key set (an "
        "admin, or the agent of a registered node: kingbird-keystone-agent --adopt).",
        [{"method": "POST", "path": "/v1.0/{tenant}/os-fernet-keys/import"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:list_nodes", base.ADMIN,
        "List the registered Keystone nodes and the agent user each is bound to.",
        [{"method": "GET", "path": "/v1.0/{tenant}/os-fernet-keys/nodes"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:register_node", base.ADMIN,
        "Register a Keystone node, bound to the one agent user that may report for it.",
        [{"method": "POST", "path": "/v1.0/{tenant}/os-fernet-keys/nodes"}]),
    policy.DocumentedRuleDefault(
        f"{PREFIX}:sync", AGENT,
        "A Keystone node's agent reports and fetches the key set (key material!); "
        "%(agent_role)s is [fernet] agent_role, and only the node's own agent user passes.",
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
