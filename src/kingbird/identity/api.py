"""Fernet key management and the multisite identity status.

``os-fernet-keys``: the key set (never its material), rotation, import, and the
route by which each Keystone node's agent reports and fetches its keys (a POST:
no GET ever returns key material). ``os-multisite-identity``: per region,
replication lag of the identity database, key set versions of its nodes and
their validation probe.
"""

from __future__ import annotations

import re

from flask import Blueprint

from kingbird.api import validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions, check_tenant, describe_both
from kingbird.core import exceptions
from kingbird.identity import schemas, sites
from kingbird.identity.keymanager import KeyManager

bp = Blueprint("fernet_keys", __name__)

POLICY = "kingbird:fernet_keys"
_NODE_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,255}$")


def manager() -> KeyManager:
    """:raises ServiceUnavailable: no ``[fernet] master_key``."""
    return KeyManager.from_conf(services().conf, services().db)


def _node_name(value: str) -> str:
    if not _NODE_NAME.match(value or ""):
        raise exceptions.BadRequest(
            f"node name {value[:60]!r} is invalid: use 1-255 letters, digits or _.:@-")
    return value


def _report(body: dict) -> dict:
    """The node's report as ``KeyManager.node_sync`` takes it (absent fields None)."""
    node = body["node"]
    probe = node.get("probe")
    return {"region": node["region"], "version": node.get("version"),
            "keystone_url": node.get("keystone_url"), "error": node.get("error"),
            "agent": node.get("agent"), "probe": None if probe is None else dict(probe)}


def show(tenant: str | None = None):
    check_tenant(tenant)
    authorise(f"{POLICY}:show", {})
    return json_response(manager().status())


def rotate(tenant: str | None = None):
    ctx = check_tenant(tenant)
    authorise(f"{POLICY}:rotate", {})
    validation.request_body(schemas.ROTATE, required=False)
    result = manager().rotate(requested_by=ctx.user_id or None,
                              request_id=ctx.request_id or None)
    return json_response({"rotation": result}, 202)


def import_repository(tenant: str | None = None):
    check_tenant(tenant)
    authorise(f"{POLICY}:import", {})
    files = validation.request_body(schemas.IMPORT)["key_repository"]
    return json_response({"fernet_keys": manager().import_repository(files)}, 201)


def sync_node(node: str, tenant: str | None = None):
    check_tenant(tenant)
    _node_name(node)
    authorise(f"{POLICY}:sync", {"node": node})
    report = _report(validation.request_body(schemas.REPORT))
    return json_response(manager().node_sync(node, report))


def forget_node(node: str, tenant: str | None = None):
    check_tenant(tenant)
    _node_name(node)
    authorise(f"{POLICY}:forget_node", {"node": node})
    manager().forget_node(node)
    return json_response({"deleted": node})


def multisite_identity(tenant: str | None = None):
    check_tenant(tenant)
    authorise("kingbird:multisite_identity:show", {})
    return json_response({"multisite_identity": sites.snapshot(services().conf,
                                                               services().db)})


both_versions(bp, "/os-fernet-keys", show, ["GET"])
both_versions(bp, "/os-fernet-keys/rotate", rotate, ["POST"])
both_versions(bp, "/os-fernet-keys/import", import_repository, ["POST"])
both_versions(bp, "/os-fernet-keys/nodes/<node>/sync", sync_node, ["POST"])
both_versions(bp, "/os-fernet-keys/nodes/<node>", forget_node, ["DELETE"])
both_versions(bp, "/os-multisite-identity", multisite_identity, ["GET"])

# --- OpenAPI -------------------------------------------------------------------------

_UNAVAILABLE = {"type": "object"}

describe_both("GET", "/os-fernet-keys", "The Fernet key set (no material), nodes, rotation",
              "fernet_keys", responses={200: schemas.STATUS, 503: _UNAVAILABLE})
describe_both("POST", "/os-fernet-keys/rotate",
              "Rotate: stage a key, promote it once every node confirmed it",
              "fernet_keys", request=schemas.ROTATE, request_required=False,
              responses={202: {"type": "object", "required": ["rotation"],
                               "properties": {"rotation": schemas.ROTATION}},
                         409: {"type": "object"}, 503: _UNAVAILABLE})
describe_both("POST", "/os-fernet-keys/import",
              "Take over an existing key repository as the first key set", "fernet_keys",
              request=schemas.IMPORT, responses={201: schemas.STATUS, 409: {"type": "object"}})
describe_both("POST", "/os-fernet-keys/nodes/<node>/sync",
              "A node's agent reports what it holds and gets the key set if behind",
              "fernet_keys", request=schemas.REPORT,
              responses={200: schemas.SYNCED, 503: _UNAVAILABLE})
describe_both("DELETE", "/os-fernet-keys/nodes/<node>", "Forget a decommissioned node",
              "fernet_keys", responses={200: {"type": "object"}})
describe_both("GET", "/os-multisite-identity",
              "Per region: replication lag, key set versions, validation probe",
              "fernet_keys", responses={200: schemas.SITES})
