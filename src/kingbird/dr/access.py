"""The region clients DR workflows use, with the service's credentials or a project's.

``DrAccess.admin`` acts with Kingbird's service (admin) credentials: reading
any project's servers and ports, exporting and importing backup records,
managing replicas, creating ports with chosen addresses. ``DrAccess.project``
acts in a plan's project through the trust its creator gave: snapshots,
backups, volumes and servers are created there, as the project's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from kingbird.regions.clients import Clients, RegionClients
from kingbird.regions.copying import Copier

__all__ = ["Clients", "DrAccess"]


class DrAccess:
    """Region clients for DR workflows.

    :param clients: the process's region clients (with trust access).
    :param copiers: the resource sync copiers (flavor, keypair, security_group).
    """

    def __init__(self, clients: RegionClients, copiers: Mapping[str, Copier]):
        self.admin = clients.service
        self._clients = clients
        self.copiers = copiers

    def project(self, trust_id: str | None) -> Clients:
        """Clients acting in the plan's project.

        :raises ValueError: the plan has no trust.
        """
        if not trust_id:
            raise ValueError("the plan has no trust to act for its project")
        return self._clients.for_trust(trust_id)
