"""The region clients DR workflows use, with the service's credentials or a project's.

``DrAccess.admin`` acts with Kingbird's service (admin) credentials: reading
any project's servers and ports, exporting and importing backup records,
managing replicas, creating ports with chosen addresses. ``DrAccess.project``
acts in a plan's project through the trust its creator gave: snapshots,
backups, volumes and servers are created there, as the project's own.
"""

from __future__ import annotations

from collections.abc import Mapping

from kingbird.regions.clients import Clients
from kingbird.regions.copying import Copier
from kingbird.regions.rest import RegionRest
from kingbird.regions.trusts import ProjectAccess

__all__ = ["Clients", "DrAccess"]


class DrAccess:
    """Region clients for DR workflows.

    :param admin_rest: calls with the service's credentials.
    :param project_access: trust id → calls in the trust's project.
    :param copiers: the resource sync copiers (flavor, keypair, security_group).
    """

    def __init__(self, admin_rest: RegionRest, project_access: ProjectAccess,
                 copiers: Mapping[str, Copier]):
        self.admin = Clients.over(admin_rest)
        self._project_access = project_access
        self.copiers = copiers

    def project(self, trust_id: str | None) -> Clients:
        """Clients acting in the plan's project.

        :raises ValueError: the plan has no trust.
        """
        if not trust_id:
            raise ValueError("the plan has no trust to act for its project")
        return Clients.over(self._project_access(trust_id))
