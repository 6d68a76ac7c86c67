"""Resource synchronisation: one copier per resource type.

``build_copiers`` is the one place that knows which types exist; the API asks
the copiers whether a resource is in its source region, the engine's job runner
asks them to copy it.
"""

from __future__ import annotations

from kingbird.regions.clients import Clients
from kingbird.regions.copying import Copier
from kingbird.sync.flavor import FlavorCopier
from kingbird.sync.image import ImageCopier
from kingbird.sync.keypair import KeypairCopier
from kingbird.sync.security_group import SecurityGroupCopier


def build_copiers(regions: Clients) -> dict[str, Copier]:
    """Resource type → copier, all acting with ``regions``' credentials."""
    copiers: list[Copier] = [KeypairCopier(regions.keypairs), FlavorCopier(regions.flavors),
                             ImageCopier(regions.images), SecurityGroupCopier(regions.groups)]
    return {c.resource_type: c for c in copiers}
