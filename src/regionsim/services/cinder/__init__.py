"""The simulated Cinder (block storage API v3, microversions 3.0 to 3.71).

Routes live in one module per resource; importing them registers them on
``bp``. See ``regionsim.services`` for the contract this module follows.
"""

from regionsim.services.cinder import (  # noqa: F401  (registers the routes)
    backups,
    quotas_api,
    replicas,
    replication,
    sim,
    snapshots,
    transfers,
    types,
    versions,
    volume_actions,
    volumes,
)
from regionsim.services.cinder.common import CinderError, bp
from regionsim.services.cinder.state import State

NAME = "cinder"
PUBLIC_PATHS = ("/volume/", "/volume/v3/")
CATALOG = [("block-storage", "cinder", "/volume/v3/$(project_id)s"),
           ("volumev3", "cinderv3", "/volume/v3/$(project_id)s")]

__all__ = ["CATALOG", "CinderError", "NAME", "PUBLIC_PATHS", "State", "bp"]
