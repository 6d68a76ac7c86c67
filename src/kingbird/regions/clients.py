"""The one factory of region clients.

``RegionClients`` is built once per process (by ``kingbird.runtime``) from the
region directory and the retry policy, and passed to whatever reaches regions:
the API's handlers, the sync copiers, the network worker, DR, the quota reads
and writes. ``Clients`` is every service client over one ``RegionRest``: one set
of credentials (the service's, or a project's through a trust), every region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kingbird.core.retry import RetryPolicy
from kingbird.regions.directory import RegionDirectory
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


TrustDirectory = Callable[[str], RegionDirectory]


class RegionClients:
    """Region clients with the service's credentials, and with a project's through
    a trust, all under one retry policy.

    :param directory: the regions, reached with the service's credentials.
    :param policy: how every call to a region retries transient failures.
    :param trust_directory: trust id → the regions reached in the trust's project
        (see ``kingbird.regions.trusts.trust_directories``); None where nothing
        acts for a project (the API).
    """

    def __init__(self, directory: RegionDirectory, policy: RetryPolicy,
                 trust_directory: TrustDirectory | None = None):
        self.directory = directory
        self.policy = policy
        self.rest = RegionRest(directory, policy)
        self.service = Clients.over(self.rest)
        self._trust_directory = trust_directory

    def for_trust(self, trust_id: str) -> Clients:
        """Clients acting in the project of ``trust_id``, with the service's
        credentials scoped to the trust.

        :raises ValueError: this factory was built without trust access.
        """
        if self._trust_directory is None:
            raise ValueError("these region clients cannot act for a project")
        return Clients.over(RegionRest(self._trust_directory(trust_id), self.policy))
