"""Which regions exist and how to reach their services, from Keystone's catalog.

The catalog is the only source of endpoints: pointing Kingbird at a real cloud is
a matter of credentials, never of code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import openstack.connection
from keystoneauth1 import session as ks_session

# Kingbird's service names → catalog types it accepts, first match wins.
SERVICE_TYPES = {
    "compute": ("compute",),
    "network": ("network",),
    "volume": ("block-storage", "volumev3", "volume"),
    "image": ("image",),
    "identity": ("identity",),
}

ConnectionFactory = Callable[[str], openstack.connection.Connection]


class RegionDirectory:
    """Regions of the catalog and one openstacksdk connection per region.

    The catalog is re-read at most every ``catalog_ttl`` seconds, so a region
    added in Keystone is picked up without a restart.
    """

    def __init__(self, session: ks_session.Session, interface: str = "public",
                 catalog_ttl: float = 60.0,
                 connection_factory: ConnectionFactory | None = None):
        self.session = session
        self.interface = interface
        self.catalog_ttl = catalog_ttl
        self._factory = connection_factory or self._default_connection
        self._lock = threading.Lock()
        self._connections: dict[str, openstack.connection.Connection] = {}
        self._catalog: dict[str, set[str]] = {}
        self._catalog_read_at = 0.0

    def _default_connection(self, region: str) -> openstack.connection.Connection:
        return openstack.connection.Connection(
            session=self.session, region_name=region, interface=self.interface)

    def _services_by_region(self) -> dict[str, set[str]]:
        with self._lock:
            if time.monotonic() - self._catalog_read_at > self.catalog_ttl or not self._catalog:
                access = self.session.auth.get_access(self.session)
                catalog: dict[str, set[str]] = {}
                for entry in access.service_catalog.catalog:
                    for endpoint in entry.get("endpoints", []):
                        if endpoint.get("interface") != self.interface:
                            continue
                        region = endpoint.get("region_id") or endpoint.get("region")
                        if region:
                            catalog.setdefault(region, set()).add(entry.get("type"))
                self._catalog = catalog
                self._catalog_read_at = time.monotonic()
            return self._catalog

    def regions(self, service: str | None = None) -> list[str]:
        """Regions that offer ``service`` (a key of ``SERVICE_TYPES``), or any service
        other than identity when None."""
        found = []
        for region, types in self._services_by_region().items():
            if service is None:
                if types - set(SERVICE_TYPES["identity"]) - {"synchronization"}:
                    found.append(region)
            elif types & set(SERVICE_TYPES[service]):
                found.append(region)
        return sorted(found)

    def has_service(self, region: str, service: str) -> bool:
        return bool(self._services_by_region().get(region, set()) & set(SERVICE_TYPES[service]))

    def connection(self, region: str) -> openstack.connection.Connection:
        """The (cached) openstacksdk connection of ``region``."""
        with self._lock:
            conn = self._connections.get(region)
            if conn is None:
                conn = self._connections[region] = self._factory(region)
            return conn
