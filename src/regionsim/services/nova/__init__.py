"""The simulated Nova (compute API v2.1, microversions 2.1 to 2.90).

Routes live in one module per resource; importing them registers them on
``bp``. See ``regionsim.services`` for the contract this module follows.
"""

from regionsim.services.nova import (  # noqa: F401  (registers the routes)
    flavors,
    keypairs,
    quotas_api,
    server_actions,
    servers,
    versions,
)
from regionsim.services.nova.common import bp
from regionsim.services.nova.state import State

NAME = "nova"
PUBLIC_PATHS = ("/compute/", "/compute/v2.1", "/compute/v2.1/")
CATALOG = [("compute", "nova", "/compute/v2.1")]

__all__ = ["CATALOG", "NAME", "PUBLIC_PATHS", "State", "bp"]
