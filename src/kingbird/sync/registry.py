"""The resource types Kingbird synchronises, each registered once, here, with the
factory of its copier.

Everything that lists the types is derived from ``SYNC_TYPES``:
``RESOURCE_TYPES`` (which ``sync.models``, the API's checks and the repository
read), ``build_copiers`` (the API and the engine), the ``resource_type`` enum of
``/openapi.json``. The database keeps no list of its own, and the client carries
a copy of the names, checked equal to these by a test (it ships without the
server). Adding a type is one module under ``sync/`` (its ``Copier``) and one
``SyncType`` line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kingbird.regions.clients import Clients
from kingbird.regions.copying import Copier
from kingbird.sync.flavor import FlavorCopier
from kingbird.sync.image import ImageCopier
from kingbird.sync.keypair import KeypairCopier
from kingbird.sync.security_group import SecurityGroupCopier


@dataclass(frozen=True)
class SyncType:
    """A resource type, and how to build its copier from the service's clients."""

    name: str
    copier: Callable[[Clients], Copier]


SYNC_TYPES: tuple[SyncType, ...] = (
    SyncType("keypair", lambda regions: KeypairCopier(regions.keypairs)),
    SyncType("flavor", lambda regions: FlavorCopier(regions.flavors)),
    SyncType("image", lambda regions: ImageCopier(regions.images)),
    SyncType("security_group", lambda regions: SecurityGroupCopier(regions.groups)),
)

RESOURCE_TYPES: tuple[str, ...] = tuple(sync_type.name for sync_type in SYNC_TYPES)


def build_copiers(regions: Clients) -> dict[str, Copier]:
    """Resource type → its copier, acting with ``regions``' credentials."""
    return {sync_type.name: sync_type.copier(regions) for sync_type in SYNC_TYPES}
