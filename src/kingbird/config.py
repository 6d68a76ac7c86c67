"""Every configuration option of Kingbird, declared once.

Options are registered on a ``ConfigOpts`` object that the entry point builds
(``load_config``), never on import inside feature modules, so that the API, the
engine, the demo and the tests can each hold their own configuration in one
process (the demo runs Keystone-independent API and engine side by side).
"""

from __future__ import annotations

import itertools
import os

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from kingbird.quota.keys import QUOTA_KEYS

DEFAULT_STATE_DIR = os.path.abspath(".kingbird")

default_opts = [
    cfg.StrOpt(
        "state_dir",
        default=DEFAULT_STATE_DIR,
        # The real default depends on the working directory; the sample must not.
        sample_default="<working directory>/.kingbird",
        help="Directory for Kingbird's local state: the SQLite database of the embedded "
        "mode and lock files.",
    ),
]

database_opts = [
    cfg.StrOpt(
        "connection",
        secret=True,
        help="SQLAlchemy URL of the Kingbird database. Empty means a SQLite file "
        "kingbird.sqlite in state_dir. Examples: postgresql+psycopg2://u@host/kingbird, "
        "mysql+pymysql://u:p@host/kingbird.",
    ),
    cfg.IntOpt("pool_size", default=5, min=1, help="Connections kept per process."),
]

api_opts = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="Address the API listens on."),
    cfg.PortOpt("bind_port", default=8118, help="Port the API listens on."),
    cfg.IntOpt("threads", default=16, min=1, help="Worker threads of the embedded server."),
    cfg.IntOpt(
        "max_request_body_size",
        default=114688,
        min=1024,
        help="Largest request body accepted, in bytes; larger bodies get 413.",
    ),
]

quota_opts = [
    cfg.IntOpt(
        "sync_interval",
        default=60,
        min=1,
        help="Seconds between two periodic quota syncs of every project.",
    ),
    cfg.StrOpt(
        "allocation",
        default="escrow",
        choices=[
            ("escrow", "the headroom (global - total usage) is split among the regions in "
             "proportion to their recent demand, so the regional limits sum to the global "
             "limit and it can never be exceeded"),
            ("classic", "regional limit = global - total usage + regional usage (the "
             "original formula: every region may take the whole headroom at once)"),
        ],
        help="How a global limit is divided among regions.",
    ),
    cfg.FloatOpt(
        "escrow_floor",
        default=0.1,
        min=0.0,
        max=1.0,
        help="Escrow: fraction of a project's headroom split equally among the regions "
        "whatever their demand, so that an idle region can still start something.",
    ),
    cfg.FloatOpt(
        "escrow_tolerance",
        default=0.1,
        min=0.0,
        max=1.0,
        help="Escrow: regional limits are left as they are while each region's share "
        "differs from its target by at most this fraction of the headroom (fewer writes).",
    ),
    cfg.FloatOpt(
        "demand_half_life",
        min=0.1,
        help="Escrow: seconds after which a region's observed usage growth weighs half "
        "as much in its demand estimate. Default: twice sync_interval.",
    ),
    cfg.FloatOpt(
        "contended_sync_interval",
        min=0.1,
        help="Escrow: seconds between two syncs of a contended project, one whose usage "
        "of some key reached contention_threshold of its global limit and changed since "
        "the sync before. Capacity freed in a region where nobody asks for it is handed "
        "to the others only at a sync, so under contention a shorter interval means "
        "fewer creates refused while the global limit still has room. Engines look "
        "for due projects every [engine] poll_interval, which bounds how soon. "
        "Default: a quarter of sync_interval.",
    ),
    cfg.FloatOpt(
        "contention_threshold",
        default=0.8,
        min=0.0,
        max=1.0,
        help="Escrow: fraction of a global limit that the project's usage must reach "
        "for the project to be contended. 1.0 syncs early only projects at their "
        "limit; 0 syncs every project whose usage moved at the contended interval.",
    ),
]

# Defaults of the global limits when neither the project nor the 'default' quota
# class sets one. Named as in the original service's [kingbird_global_limit].
_DEFAULT_GLOBAL_LIMITS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "key_pairs": 100,
    "fixed_ips": -1,
    "security_groups": 10,
    "floating_ips": 10,
    "network": 10,
    "subnet": 10,
    "port": 50,
    "security_group": 10,
    "security_group_rule": 100,
    "router": 10,
    "floatingip": 50,
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
}
assert set(_DEFAULT_GLOBAL_LIMITS) == set(QUOTA_KEYS)

global_limit_opts = [
    cfg.IntOpt(
        f"quota_{key}",
        default=value,
        min=-1,
        help=f"Default global limit of {key} (-1 is unlimited).",
    )
    for key, value in _DEFAULT_GLOBAL_LIMITS.items()
]

regions_opts = [
    cfg.StrOpt(
        "interface",
        default="public",
        choices=["public", "internal", "admin"],
        help="Catalog interface used to reach the regions' services.",
    ),
    cfg.IntOpt(
        "concurrency",
        default=16,
        min=1,
        help="Most calls to regional services in flight at once (fan-out bound).",
    ),
    cfg.FloatOpt(
        "request_timeout",
        default=10.0,
        min=0.1,
        help="Seconds one call to a regional service may take.",
    ),
    cfg.FloatOpt(
        "detail_deadline",
        default=5.0,
        min=0.1,
        help="Seconds the API waits for regions when it answers from live data "
        "(quota detail); regions later than that are reported missing.",
    ),
    cfg.IntOpt(
        "retries",
        default=2,
        min=0,
        help="Retries of a transient failure (5xx, timeout, refused connection).",
    ),
]

engine_opts = [
    cfg.StrOpt("engine_id", help="Name of this engine in leases; default host:pid."),
    cfg.IntOpt("job_workers", default=8, min=1, help="Job entries executed at once."),
    cfg.FloatOpt(
        "poll_interval", default=1.0, min=0.05, help="Seconds between looks for new work."
    ),
    cfg.IntOpt(
        "lease_seconds",
        default=30,
        min=2,
        help="How long a claim on a job lasts without renewal; another engine takes "
        "over the work of an engine silent for longer.",
    ),
    cfg.IntOpt(
        "entry_retries",
        default=3,
        min=0,
        help="Times a sync job entry that failed for a transient reason (a region down, "
        "timing out or answering 5xx) is tried again, after entry_retry_backoff seconds, "
        "doubled at each retry (at most 60), before it is recorded as failed.",
    ),
    cfg.FloatOpt(
        "entry_retry_backoff",
        default=1.0,
        min=0.0,
        help="Seconds before the first retry of a sync job entry (see entry_retries).",
    ),
    cfg.HostAddressOpt(
        "metrics_host",
        default="127.0.0.1",
        help="Address of the engine's Prometheus endpoint (see metrics_port).",
    ),
    cfg.PortOpt(
        "metrics_port",
        default=0,
        help="Port where a separate kingbird-engine process serves its own Prometheus "
        "metrics (region calls, syncs and jobs it ran); 0 serves none. The API's /metrics "
        "has the cluster-wide figures read from the database.",
    ),
]

coordination_opts = [
    cfg.StrOpt(
        "backend_url",
        secret=True,
        help="tooz URL of the coordination backend of several engines: one quota "
        "scheduler at a time, one engine per project sync. Examples: "
        "postgresql://kingbird@db-host:5432/kingbird, redis://redis-host:6379. Empty: "
        "in-process coordination, right for one engine (the embedded mode); several "
        "engines then still never run one job entry or project sync twice at once "
        "(database leases) but each one schedules the periodic sync.",
    ),
]

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

networking_opts = [
    cfg.DictOpt(
        "tunnel_endpoints",
        default={},
        help="region:address pairs: the VXLAN tunnel endpoint of each region, where the "
        "other regions' VTEPs reach its hypervisors. Shadow ports of a region's ports are "
        "bound to it (binding:host_id and binding:profile tunnel_ip). A region without one "
        "cannot join a global network. Example: RegionOne:192.0.2.1,RegionTwo:192.0.2.2",
    ),
    cfg.ListOpt(
        "vni_ranges",
        default=["100000:199999"],
        help="VXLAN ids (low:high ranges) Kingbird allocates to global networks. Keep them "
        "apart from the tenant VNI ranges of the regions' Neutron ([ml2_type_vxlan] "
        "vni_ranges); an id a region refuses is never offered again.",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=10.0,
        min=0.1,
        help="Seconds between two reconciliations of a global network (ports discovered, "
        "shadow ports repaired, VIPs), a cross-region security group rule or a global router. "
        "Changes made through Kingbird are reconciled at once.",
    ),
    cfg.IntOpt(
        "reserved_addresses",
        default=8,
        min=0,
        help="Addresses kept out of every region's allocation pool at the end of a global "
        "network's CIDR, from which virtual IPs are taken, when the request does not say.",
    ),
]

SERVICE_CREDENTIALS_GROUP = "service_credentials"


def _groups():
    return [
        (None, default_opts),
        ("database", database_opts),
        ("api", api_opts),
        ("quota", quota_opts),
        ("kingbird_global_limit", global_limit_opts),
        ("regions", regions_opts),
        ("engine", engine_opts),
        ("coordination", coordination_opts),
        ("fernet", fernet_opts),
        ("multisite_identity", multisite_identity_opts),
        ("networking", networking_opts),
    ]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every Kingbird option (and the keystoneauth ones) on ``conf``."""
    for group, opts in _groups():
        conf.register_opts(opts, group=group)
    ks_loading.register_auth_conf_options(conf, SERVICE_CREDENTIALS_GROUP)
    ks_loading.register_session_conf_options(conf, SERVICE_CREDENTIALS_GROUP)


def load_config(args: list[str] | None = None, config_files: list[str] | None = None,
                prog: str = "kingbird") -> cfg.ConfigOpts:
    """Build a fresh, fully registered configuration from command-line arguments."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(args or [], project="kingbird", prog=prog,
         default_config_files=config_files, validate_default_values=True)
    return conf


def database_url(conf: cfg.ConfigOpts) -> str:
    """The database URL in force: the configured one, or the embedded SQLite file."""
    if conf.database.connection:
        return conf.database.connection
    return "sqlite:///" + os.path.join(conf.state_dir, "kingbird.sqlite")


def default_global_limits(conf: cfg.ConfigOpts) -> dict[str, int]:
    """The configuration defaults of every quota key."""
    return {key: getattr(conf.kingbird_global_limit, f"quota_{key}") for key in QUOTA_KEYS}


def list_opts():
    """Options for oslo-config-generator (namespace ``kingbird``)."""
    ks_opts = ks_loading.get_session_conf_options() + ks_loading.get_auth_common_conf_options()
    ks_opts += ks_loading.get_auth_plugin_conf_options("password")
    return [(group or "DEFAULT", list(opts)) for group, opts in _groups()] + [
        (SERVICE_CREDENTIALS_GROUP, list(itertools.chain(ks_opts)))
    ]
