"""Glance (image v2) of a simulated region.

Importing the route modules registers them on the shared blueprint. Nova and
Cinder reach this service only through ``State``'s contract methods.
"""

from regionsim.services.glance import (  # noqa: F401  (modules register routes)
    data,
    images,
    listing,
    members,
    versions,
)
from regionsim.services.glance.common import bp
from regionsim.services.glance.errors import GlanceError
from regionsim.services.glance.state import State

NAME = "glance"
CATALOG = [("image", "glance", "/image")]
PUBLIC_PATHS = ["/image", "/image/", "/image/versions"]

__all__ = ["CATALOG", "NAME", "PUBLIC_PATHS", "GlanceError", "State", "bp"]
