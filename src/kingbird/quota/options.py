"""Options of global quota: ``[quota]`` (sync periods, escrow) and
``[kingbird_global_limit]`` (the default global limit of each quota key)."""

from __future__ import annotations

from oslo_config import cfg

from kingbird.quota.keys import QUOTA_KEYS

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


def default_global_limits(conf: cfg.ConfigOpts) -> dict[str, int]:
    """The configuration defaults of every quota key."""
    return {key: getattr(conf.kingbird_global_limit, f"quota_{key}") for key in QUOTA_KEYS}
