"""Access to the ``ApiServices`` of the running application."""

from __future__ import annotations

from flask import current_app

from kingbird.core import exceptions
from kingbird.regions.clients import RegionClients


def services():
    """The ``ApiServices`` passed to ``create_app``."""
    return current_app.extensions["kingbird"]


def region_clients() -> RegionClients:
    """The application's region clients (the service's credentials).

    :raises ServiceUnavailable: no regions are configured.
    """
    clients = services().clients
    if clients is None:
        raise exceptions.ServiceUnavailable("no regions are configured")
    return clients
