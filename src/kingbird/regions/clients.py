"""Every regional service client over one ``RegionRest``: one set of credentials
(the service's, or a project's through a trust), every region."""

from __future__ import annotations

from dataclasses import dataclass

from kingbird.regions.flavors import Flavors
from kingbird.regions.images import Images
from kingbird.regions.keypairs import Keypairs
from kingbird.regions.networking import RegionNetworking
from kingbird.regions.rest import RegionRest
from kingbird.regions.security_groups import SecurityGroups
from kingbird.regions.servers import Servers
from kingbird.regions.volumes import Volumes


@dataclass
class Clients:
    """The services of every region, acting with one set of credentials."""

    rest: RegionRest
    servers: Servers
    volumes: Volumes
    images: Images
    network: RegionNetworking
    flavors: Flavors
    keypairs: Keypairs
    groups: SecurityGroups

    @classmethod
    def over(cls, rest: RegionRest) -> Clients:
        return cls(rest, Servers(rest), Volumes(rest), Images(rest), RegionNetworking(rest),
                   Flavors(rest), Keypairs(rest), SecurityGroups(rest))

    def networks_named(self, region: str, name: str) -> list[dict]:
        """Networks called ``name`` (of every project: filter on ``project_id`` and
        ``shared``), each with its ``subnets`` bodies."""
        networks = self.rest.call(region, "network", "GET", "/networks",
                                  f"find network {name}", params={"name": name})["networks"]
        for network in networks:
            network["subnets"] = self.subnets(region, network["id"])
        return networks

    def subnets(self, region: str, network_id: str) -> list[dict]:
        return self.rest.call(region, "network", "GET", "/subnets",
                              f"list subnets of network {network_id}",
                              params={"network_id": network_id})["subnets"]
