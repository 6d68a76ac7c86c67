"""Options of multisite identity: ``[fernet]`` (key repository, rotation,
distribution) and ``[multisite_identity]`` (regional Keystones)."""

from __future__ import annotations

from oslo_config import cfg

fernet_opts = [
    cfg.StrOpt(
        "master_key",
        secret=True,
        help="Fernet key (32 url-safe base64-encoded bytes, as made by "
        "cryptography.fernet.Fernet.generate_key()) that encrypts the Keystone Fernet keys "
        "Kingbird stores. Empty disables Fernet key management: its routes answer 503.",
    ),
    cfg.ListOpt(
        "previous_master_keys",
        default=[],
        secret=True,
        help="Master keys that still decrypt stored keys (not used to encrypt): list the "
        "old master_key here when replacing it.",
    ),
    cfg.IntOpt(
        "token_expiration",
        default=3600,
        min=1,
        help="Lifetime of a token in seconds: Keystone's [token] expiration, which every "
        "node must share. A demoted primary key is kept at least that long.",
    ),
    cfg.IntOpt(
        "allow_expired_window",
        default=172800,
        min=0,
        help="Keystone's [token] allow_expired_window: services may validate a token that "
        "long after it expired, so keys are kept that much longer too.",
    ),
    cfg.IntOpt(
        "retention_margin",
        default=300,
        min=0,
        help="Seconds added to the retention of a demoted key for clock skew between "
        "Kingbird and the Keystone nodes.",
    ),
    cfg.StrOpt(
        "agent_role",
        default="kingbird_keystone_agent",
        help="Keystone role of the users whose kingbird-keystone-agent reports and fetches "
        "the key set (the default of policy kingbird:fernet_keys:sync). Give it to "
        "one user per Keystone node and to nothing else: whoever holds the Fernet keys can "
        "forge any token. Each node is also bound to one such user when an admin "
        "registers it (POST os-fernet-keys/nodes).",
    ),
    cfg.IntOpt(
        "node_timeout",
        default=60,
        min=1,
        help="A Keystone node whose agent has not reported for this many seconds is "
        "unreachable: it is reported unhealthy and no staged key is promoted until it "
        "reports again (or is forgotten).",
    ),
]


multisite_identity_opts = [
    cfg.StrOpt(
        "master_region",
        help="Region whose Keystone writes the identity database (star topology).",
    ),
    cfg.StrOpt(
        "master_database",
        secret=True,
        help="SQLAlchemy URL of the identity database at the master site (a PostgreSQL "
        "primary), read for replication lag; standbys are told apart by the "
        "application_name they connect with, which must be their region.",
    ),
    cfg.DictOpt(
        "replica_databases",
        default={},
        secret=True,
        help="region:URL pairs of the read-only identity database replica of each other "
        "region, read for its own view of replication (still streaming, last replay).",
    ),
    cfg.FloatOpt(
        "status_timeout",
        default=3.0,
        min=0.1,
        help="Seconds the API waits for each identity database when it reports "
        "replication.",
    ),
]
