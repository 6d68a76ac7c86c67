"""Nova's version documents: ``GET /compute/`` and ``GET /compute/v2.1``.

Only v2.1 is listed: the simulator does not serve the legacy v2.0 endpoint, and
listing it would send a discovering client to a path that 404s.
"""

from __future__ import annotations

from flask import request

from regionsim.services._compute_style import fmt
from regionsim.services.nova.common import MAX_VERSION, MIN_VERSION, bp
from regionsim.web import json_response

_UPDATED = "2013-07-23T11:33:21Z"


def _v21(detailed: bool) -> dict:
    base = request.host_url.rstrip("/")
    version = {"id": "v2.1", "status": "CURRENT", "version": fmt(MAX_VERSION),
               "min_version": fmt(MIN_VERSION), "updated": _UPDATED,
               "links": [{"rel": "self", "href": f"{base}/compute/v2.1/"}]}
    if detailed:
        version["links"].append({"rel": "describedby", "type": "text/html",
                                 "href": "http://docs.openstack.org/"})
        version["media-types"] = [{"base": "application/json",
                                   "type": "application/vnd.openstack.compute+json;"
                                           "version=2.1"}]
    return version


@bp.get("/", strict_slashes=False)
def list_versions():
    return json_response({"versions": [_v21(detailed=False)]})


@bp.get("/v2.1", strict_slashes=False)
def show_version():
    return json_response({"version": _v21(detailed=True)})
