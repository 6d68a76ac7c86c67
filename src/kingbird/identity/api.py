"""Fernet key management and the multisite identity status.

``os-fernet-keys``: the key set (never its material), rotation, import, the
Keystone nodes an admin registered (each bound to one agent user), and the route
by which a node's agent reports and fetches its keys (a POST: no GET ever returns
key material; only the node's own agent user, holding ``[fernet] agent_role``, is
served). ``os-multisite-identity``: per region, replication lag of the identity
database, key set versions of its nodes and their validation probe.
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
from kingbird.regions import identity as keystone

bp = Blueprint("fernet_keys", __name__)

POLICY = "kingbird:fernet_keys"
# fullmatch: "$" would also match before a final newline.
_NODE_NAME = re.compile(r"[A-Za-z0-9_.:@-]{1,255}")


def manager() -> KeyManager:
    """:raises ServiceUnavailable: no ``[fernet] master_key``."""
    return KeyManager.from_conf(services().conf, services().db)


def _node_name(value: str, what: str = "node name") -> str:
    if not _NODE_NAME.fullmatch(value or ""):
        raise exceptions.BadRequest(
            f"{what} {value[:60]!r} is invalid: use 1-255 letters, digits or _.:@-")
    return value


def _check_agent_user(user_id: str) -> None:
    """:raises BadRequest: Keystone has no user with this id.
    :raises ServiceUnavailable: Keystone cannot be asked."""
    svc = services()
    if svc.clients is None:
        raise exceptions.ServiceUnavailable("no Keystone to check agent_user_id against")
    try:
        found = keystone.user_exists(svc.clients.directory.session, user_id,
                                     svc.conf.regions.interface, svc.clients.policy)
    except exceptions.RegionError as exc:
        raise exceptions.ServiceUnavailable(
            f"Keystone cannot tell whether user {user_id!r} exists: {exc.message}") from exc
    if not found:
        raise exceptions.BadRequest(
            f"node.agent_user_id: Keystone has no user with the id {user_id!r} (give the "
            "agent user's id, not its name)")


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
    ctx = check_tenant(tenant)
    authorise(f"{POLICY}:import", {"agent_role": services().conf.fernet.agent_role})
    files = validation.request_body(schemas.IMPORT)["key_repository"]
    adopter = None if ctx.is_admin else ctx.user_id  # an agent: kingbird-keystone-agent --adopt
    return json_response({"fernet_keys": manager().import_repository(files, adopter)}, 201)


def list_nodes(tenant: str | None = None):
    check_tenant(tenant)
    authorise(f"{POLICY}:list_nodes", {})
    return json_response({"nodes": manager().list_nodes()})


def register_node(tenant: str | None = None):
    check_tenant(tenant)
    authorise(f"{POLICY}:register_node", {})
    node = validation.request_body(schemas.REGISTRATION)["node"]
    keys = manager()
    _check_agent_user(node["agent_user_id"])
    view, created = keys.register_node(node["name"], node["region"], node["agent_user_id"])
    return json_response({"node": view}, 201 if created else 200)


def sync_node(node: str, tenant: str | None = None):
    ctx = check_tenant(tenant)
    _node_name(node)
    authorise(f"{POLICY}:sync", {"node": node,
                                 "agent_role": services().conf.fernet.agent_role})
    report = _report(validation.request_body(schemas.REPORT))
    return json_response(manager().node_sync(node, report, ctx.user_id))


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
both_versions(bp, "/os-fernet-keys/nodes", list_nodes, ["GET"])
both_versions(bp, "/os-fernet-keys/nodes", register_node, ["POST"])
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
describe_both("GET", "/os-fernet-keys/nodes",
              "The registered Keystone nodes and the agent user of each", "fernet_keys",
              responses={200: schemas.NODES, 503: _UNAVAILABLE})
describe_both("POST", "/os-fernet-keys/nodes",
              "Register a Keystone node, bound to the one agent user that may fetch its keys",
              "fernet_keys", request=schemas.REGISTRATION,
              responses={200: schemas.REGISTERED, 201: schemas.REGISTERED,
                         409: {"type": "object"}, 503: _UNAVAILABLE})
describe_both("POST", "/os-fernet-keys/nodes/<node>/sync",
              "The node's own agent reports what it holds and gets the key set if behind",
              "fernet_keys", request=schemas.REPORT,
              responses={200: schemas.SYNCED, 503: _UNAVAILABLE})
describe_both("DELETE", "/os-fernet-keys/nodes/<node>", "Forget a decommissioned node",
              "fernet_keys", responses={200: {"type": "object"}})
describe_both("GET", "/os-multisite-identity",
              "Per region: replication lag, key set versions, validation probe",
              "fernet_keys", responses={200: schemas.SITES})
