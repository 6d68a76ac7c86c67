"""Which quota keys Kingbird manages and which regional service owns each.

The key names are those of the user guide; each maps to the service that enforces
it in a region and the name that service gives it on the wire.
"""

from __future__ import annotations

from types import MappingProxyType

COMPUTE = "compute"
NETWORK = "network"
VOLUME = "volume"

# key -> service type. Order is the user guide's order, kept for stable output.
_OWNER = {
    "instances": COMPUTE,
    "cores": COMPUTE,
    "ram": COMPUTE,
    "metadata_items": COMPUTE,
    "key_pairs": COMPUTE,
    "fixed_ips": COMPUTE,
    "security_groups": COMPUTE,
    "floating_ips": COMPUTE,
    "network": NETWORK,
    "subnet": NETWORK,
    "port": NETWORK,
    "security_group": NETWORK,
    "security_group_rule": NETWORK,
    "router": NETWORK,
    "floatingip": NETWORK,
    "volumes": VOLUME,
    "snapshots": VOLUME,
    "gigabytes": VOLUME,
    "backups": VOLUME,
    "backup_gigabytes": VOLUME,
}

SERVICE_OF_KEY = MappingProxyType(_OWNER)
QUOTA_KEYS: tuple[str, ...] = tuple(_OWNER)
SERVICES: tuple[str, ...] = (COMPUTE, NETWORK, VOLUME)


def keys_of_service(service: str) -> tuple[str, ...]:
    """The quota keys a service owns, in guide order."""
    return tuple(key for key, owner in _OWNER.items() if owner == service)
