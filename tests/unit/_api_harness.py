"""The Kingbird API's Flask application in-process (no auth_token: the caller is
given as the headers auth_token would set), on a test's SQLite database, with
regionsim regions (``SimRegions``) as every region's Neutron."""

from __future__ import annotations

from types import SimpleNamespace

from kingbird import config, runtime
from kingbird.api.app import ApiServices, create_flask_app
from kingbird.regions.networking import RegionNetworking


def caller(project: str, *roles: str) -> dict:
    """The headers of a request by a user of ``project`` (a member by default)."""
    return {"X-User-Id": f"user-{project}", "X-Project-Id": project,
            "X-Roles": ",".join(roles or ("member",))}


def api_client(tx, sim=None, regions=(), **overrides):
    """A Flask test client of the whole API.

    :param overrides: ``(group, option) -> value`` as ``group__option=value``.
    """
    conf = config.load_config([])
    for key, value in overrides.items():
        group, name = key.split("__")
        conf.set_override(name, value, group=group)
    clients = None
    if sim is not None:
        clients = SimpleNamespace(
            directory=SimpleNamespace(regions=lambda service=None: sorted(regions)),
            service=SimpleNamespace(network=RegionNetworking(sim)))
    services = ApiServices(conf=conf, db=tx, clients=clients)
    return create_flask_app(services, runtime.API_FEATURES).test_client()
