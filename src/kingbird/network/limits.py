"""Per-project limits on the objects of cross-region networking (``[networking]
max_*_per_project``).

Kingbird's own objects count in no region's quota: a global network holds a VXLAN
id of Kingbird's ranges, and its shadow ports and VIP reservations are ports of
Kingbird's service project. Without a limit one member could take every id, or
fill the service project's port quota so that other projects' shadows fail.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from kingbird.core import exceptions
from kingbird.network import policy_repository as net_policies_db
from kingbird.network import repository as networks_db
from kingbird.network.settings import ProjectLimits

LABELS = {"global_networks": "global networks", "vips": "virtual IPs",
          "sg_rules": "cross-region security group rules", "routers": "global routers",
          "service_ports": "ports in Kingbird's service project"}


def reached(limits: ProjectLimits, kind: str, held: int, project: str) -> str | None:
    """Why one more object of ``kind`` is refused to a project holding ``held``
    of them; None when it may have one."""
    limit = getattr(limits, kind)
    if limit is None or held < limit:
        return None
    return (f"project {project} holds {held} {LABELS[kind]}, the limit of [networking] "
            f"{ProjectLimits.OPTIONS[kind]} = {limit}")


_COUNTERS = {"global_networks": networks_db.count_global_networks,
             "vips": networks_db.count_project_vips,
             "sg_rules": net_policies_db.count_sg_rules,
             "routers": net_policies_db.count_routers}


def check(session: Session, limits: ProjectLimits, kind: str, project: str) -> None:
    """Called before anything is asked of the regions, and again in the transaction
    that stores the new object.

    :raises Forbidden: the project may not have one more object of ``kind``.
    """
    why = reached(limits, kind, _COUNTERS[kind](session, project), project)
    if why is not None:
        raise exceptions.Forbidden(f"{why}: delete one first")


class PortBudget:
    """How many more ports Kingbird may create in its service project for one project
    during one reconcile of one of its networks.

    :param limits: the project limits (``service_ports`` is the one counted).
    :param held: the ports held for the project now (this network's as observed,
        the others' as last recorded).
    """

    def __init__(self, limits: ProjectLimits, project: str, held: int):
        self.limits = limits
        self.project = project
        self.held = held

    def take(self) -> str | None:
        """Count one port about to be created; why not, if the limit is reached
        (nothing is counted then)."""
        why = reached(self.limits, "service_ports", self.held, self.project)
        if why is None:
            self.held += 1
            return None
        return f"not created: {why}"

    def give_back(self) -> None:
        """One of the project's ports was deleted."""
        self.held = max(0, self.held - 1)
