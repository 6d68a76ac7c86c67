"""The words of the wire the client and the CLI need, copied from the server.

The client ships without the server, so it cannot import these from it; each is
checked equal to the server's own by ``tests/unit/test_client_vocabulary.py``, which
fails the day one side changes alone.
"""

from __future__ import annotations

# The quota keys, in the user guide's order (kingbird.quota.keys.QUOTA_KEYS).
QUOTA_KEYS: tuple[str, ...] = (
    "instances", "cores", "ram", "metadata_items", "key_pairs", "fixed_ips",
    "security_groups", "floating_ips",
    "network", "subnet", "port", "security_group", "security_group_rule", "router",
    "floatingip",
    "volumes", "snapshots", "gigabytes", "backups", "backup_gigabytes",
)

# The resource types a sync job copies (kingbird.sync.models.RESOURCE_TYPES).
SYNC_RESOURCE_TYPES: tuple[str, ...] = ("keypair", "flavor", "image", "security_group")

# How a protection plan protects its servers (kingbird.dr.models.DR_METHODS).
DR_METHODS: tuple[str, ...] = ("snapshot-backup", "replication")

# The statuses a failover or failback ends in (of kingbird.dr.models.OPERATION_STATUSES).
DR_OPERATION_FINISHED: tuple[str, ...] = ("SUCCESS", "FAILURE")
