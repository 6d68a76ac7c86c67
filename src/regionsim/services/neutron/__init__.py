"""Neutron (network v2.0) of a simulated region.

The package keeps one module per resource; importing them registers their
routes on the shared blueprint. Nova reaches this service only through
``State``'s contract methods and the ``OverQuota`` / ``NoFreeIP`` errors.
"""

from regionsim.services.neutron import (  # noqa: F401  (modules register routes)
    floatingips,
    networks,
    ports,
    quotas,
    routers,
    secgroups,
    subnets,
    versions,
)
from regionsim.services.neutron.common import bp
from regionsim.services.neutron.errors import NeutronError, NoFreeIP, OverQuota
from regionsim.services.neutron.state import State

NAME = "neutron"
CATALOG = [("network", "neutron", "/networking")]
PUBLIC_PATHS = ["/networking", "/networking/"]

__all__ = ["CATALOG", "NAME", "PUBLIC_PATHS", "NeutronError", "NoFreeIP", "OverQuota", "State",
           "bp"]
