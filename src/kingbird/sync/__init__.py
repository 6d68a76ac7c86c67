"""Resource synchronisation: one copier per resource type.

``build_copiers`` is the one place that knows which types exist; the API asks
the copiers whether a resource is in its source region, the engine's job runner
asks them to copy it.
"""

from __future__ import annotations

from kingbird.regions.copying import Copier
from kingbird.regions.directory import RegionDirectory
from kingbird.regions.flavors import Flavors
from kingbird.regions.images import Images
from kingbird.regions.keypairs import Keypairs
from kingbird.regions.rest import RegionRest
from kingbird.regions.security_groups import SecurityGroups
from kingbird.sync.flavor import FlavorCopier
from kingbird.sync.image import ImageCopier
from kingbird.sync.keypair import KeypairCopier
from kingbird.sync.security_group import SecurityGroupCopier


def build_copiers(directory: RegionDirectory, retries: int = 2) -> dict[str, Copier]:
    """Resource type → copier, all acting with the directory's (service) credentials."""
    rest = RegionRest(directory, retries=retries)
    copiers: list[Copier] = [KeypairCopier(Keypairs(rest)), FlavorCopier(Flavors(rest)),
                             ImageCopier(Images(rest), retries=retries),
                             SecurityGroupCopier(SecurityGroups(rest))]
    return {c.resource_type: c for c in copiers}
