"""The per-region state of the simulated Nova: plain dicts under the region lock."""

from __future__ import annotations

from regionsim.region import Region
from regionsim.services.nova.quota import QuotaStore

# The flavors devstack and most clouds start with: (id, name, ram MiB, disk GiB, vcpus).
DEFAULT_FLAVORS = (
    ("1", "m1.tiny", 512, 1, 1),
    ("2", "m1.small", 2048, 20, 1),
    ("3", "m1.medium", 4096, 40, 2),
    ("4", "m1.large", 8192, 80, 4),
    ("5", "m1.xlarge", 16384, 160, 8),
)


def new_flavor(flavor_id: str, name: str, ram: int, disk: int, vcpus: int, *,
               swap: int = 0, ephemeral: int = 0, rxtx_factor: float = 1.0,
               is_public: bool = True, description: str | None = None) -> dict:
    """A flavor record as Nova keeps it."""
    return {"id": flavor_id, "name": name, "ram": ram, "disk": disk, "vcpus": vcpus,
            "swap": swap, "ephemeral": ephemeral, "rxtx_factor": rxtx_factor,
            "is_public": is_public, "disabled": False, "description": description,
            "extra_specs": {}, "projects": set()}


class State:
    """Nova's records in one region.

    ``servers_by_project`` and ``keypairs`` (user -> name -> keypair) are the
    indexes the hot paths use; quota usage lives in ``quotas.usage`` and is
    updated whenever a server is created or deleted.
    """

    def __init__(self, region: Region):
        self.region = region
        self.lock = region.lock
        self.quotas = QuotaStore()
        self.flavors: dict[str, dict] = {
            fid: new_flavor(fid, name, ram, disk, vcpus)
            for fid, name, ram, disk, vcpus in DEFAULT_FLAVORS}
        self.keypairs: dict[str, dict[str, dict]] = {}
        self.servers: dict[str, dict] = {}
        self.servers_by_project: dict[str, dict[str, dict]] = {}

    # -- other services of the region, reached only through their contract --

    def glance(self):
        """The region's Glance state (``get_image``, ``create_snapshot_image``...)."""
        return self.region.service("glance")

    def neutron(self):
        """The region's Neutron state (``get_network``, ``create_port_for_server``...)."""
        return self.region.service("neutron")

    def cinder(self):
        """The region's Cinder state (``get_volume``, ``attach``, ``detach``...)."""
        return self.region.service("cinder")

    # -- lookups used by several route modules --

    def flavor_visible(self, flavor: dict, project_id: str, is_admin: bool) -> bool:
        """Public flavors, private ones the project was given, everything for admins."""
        return flavor["is_public"] or is_admin or project_id in flavor["projects"]

    def add_server(self, server: dict) -> None:
        """Record a server and count it against its project's quota."""
        self.servers[server["id"]] = server
        self.servers_by_project.setdefault(server["project_id"], {})[server["id"]] = server
        self.quotas.add_usage(server["project_id"], server_usage(server))

    def remove_server(self, server: dict) -> None:
        """Forget a server and give its quota back."""
        self.servers.pop(server["id"], None)
        self.servers_by_project.get(server["project_id"], {}).pop(server["id"], None)
        self.quotas.add_usage(server["project_id"],
                              {k: -v for k, v in server_usage(server).items()})


def server_usage(server: dict) -> dict[str, int]:
    """What one server counts against its project's quota."""
    flavor = server["flavor"]
    return {"instances": 1, "cores": flavor["vcpus"], "ram": flavor["ram"]}
