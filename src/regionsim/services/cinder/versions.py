"""Cinder's version documents: ``GET /volume/`` (300, the list) and ``GET /volume/v3/``.

Only v3 is listed: the simulator serves no v2 endpoint.
"""

from __future__ import annotations

from flask import request

from regionsim.services._compute_style import fmt
from regionsim.services.cinder.common import MAX_VERSION, MIN_VERSION, bp
from regionsim.web import json_response


def _v3() -> dict:
    base = request.host_url.rstrip("/")
    return {"id": "v3.0", "status": "CURRENT", "version": fmt(MAX_VERSION),
            "min_version": fmt(MIN_VERSION), "updated": "2023-08-31T00:00:00Z",
            "links": [{"rel": "describedby", "type": "text/html",
                       "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": f"{base}/volume/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.volume+json;version=3"}]}


@bp.get("/", strict_slashes=False)
def list_versions():
    return json_response({"versions": [_v3()]}, 300)


@bp.get("/v3/", strict_slashes=False)
def show_v3():
    return json_response({"versions": [_v3()]})
