"""Volume replication between regions, and managing a replica in the backup site.

Each region's backend (``BACKEND_HOST``) has the backends of the simulator's
other regions as its ``replication_device``s: a volume whose
``replication_status`` is ``enabled`` (its type has ``replication_enabled='<is>
True'``) is copied, whenever its data changes, to a LUN named ``volume-<id>``
on every other region's backend, as a storage array replicating to remote
arrays does. Replication runs storage to storage: it goes on while a region's
API is down.

In the region that holds it, a replica LUN is not a Cinder volume but what
Cinder calls a *manageable volume*: an administrator lists them (``GET
/manageable_volumes?host=``, microversion 3.8) and brings one under Cinder's
management in the caller's project (``POST /manageable_volumes``, or the older
``/os-volume-manage``; policy ``volume_extension:volume_manage``, admin). A
managed replica is a replication target (``replication_status`` ``inactive``,
the state name of Cinder's first per-volume replication API) until an admin
promotes it (``os-promote-replica``): promotion gives it the last replicated
data and stops replication into it; ``os-reenable-replica`` then makes it
replicate to the other regions in turn.
"""

from __future__ import annotations

from flask import request

from regionsim.services.cinder.common import (
    BACKEND_HOST,
    CinderError,
    at_least,
    bad_request,
    body_object,
    now,
    parse_int,
    require_admin,
    route,
    state,
    to_bool,
)
from regionsim.services.cinder.views import volume_view
from regionsim.web import caller, json_response

POOL = "lvmdriver-1"


def lun_name(volume_id: str) -> str:
    """The name of a volume's LUN on a backend (the LVM driver's ``volume-<id>``)."""
    return f"volume-{volume_id}"


def _targets(cinder) -> list:
    return [peer.service("cinder") for name, peer in cinder.region.peers.items()
            if name != cinder.region.name and "cinder" in peer.services]


def push(cinder, volume: dict) -> None:
    """Copy a replicating volume's data to every other region's backend.

    Called with the volume's region lock held; only each target's
    ``replica_lock`` is taken, so regions never wait on each other's locks.
    """
    if volume["replication_status"] != "enabled":
        return
    entry = {"name": lun_name(volume["id"]), "source_region": cinder.region.name,
             "source_volume_id": volume["id"], "size": volume["size"],
             "type_name": volume["type_name"], "bootable": volume["bootable"],
             "image_metadata": volume["image_metadata"],
             "content_digest": volume["content_digest"],
             "content_size": volume["content_size"], "updated_at": now()}
    for target in _targets(cinder):
        with target.replica_lock:
            kept = target.replicas.get(entry["name"], {})
            target.replicas[entry["name"]] = dict(entry, cinder_id=kept.get("cinder_id"))


def retract(cinder, volume: dict) -> None:
    """A deleted volume's LUN goes, and so do its replicas, except those already
    managed as volumes."""
    with cinder.replica_lock:
        for name, entry in list(cinder.replicas.items()):
            if entry["cinder_id"] == volume["id"]:
                del cinder.replicas[name]
    for target in _targets(cinder):
        with target.replica_lock:
            entry = target.replicas.get(lun_name(volume["id"]))
            if entry is not None and entry["cinder_id"] is None:
                del target.replicas[entry["name"]]


def promote_replica(cinder, volume: dict) -> None:
    """Make a managed replica the primary: last replicated data, no more replication in."""
    with cinder.replica_lock:
        entry = cinder.replicas.get(volume["replica_of"])
        if entry is not None:
            volume["content_digest"] = entry["content_digest"]
            volume["content_size"] = entry["content_size"]
            entry["cinder_id"] = volume["id"]
    volume["replica_of"] = None


def _check_host(host) -> None:
    if not isinstance(host, str) or host.split("#", 1)[0] not in (
            BACKEND_HOST, BACKEND_HOST.split("@")[0]):
        raise CinderError(404, f"Host {host} could not be found.")


def _listing_row(entry: dict, detailed: bool) -> dict:
    row = {"reference": {"source-name": entry["name"]}, "size": entry["size"],
           "safe_to_manage": entry["cinder_id"] is None}
    if detailed:
        row.update({"reason_not_safe": None if entry["cinder_id"] is None
                    else "already managed", "cinder_id": entry["cinder_id"],
                    "extra_info": None})
    return row


def _list(detailed: bool):
    if not at_least(8):
        raise CinderError(404, "The resource could not be found.")
    require_admin("volume_extension:list_manageable")
    host = request.args.get("host") or request.args.get("cluster")
    if not host:
        raise bad_request("Invalid input received: host or cluster must be specified.")
    _check_host(host)
    cinder = state()
    with cinder.replica_lock:
        rows = [_listing_row(e, detailed) for _, e in sorted(cinder.replicas.items())]
    offset = parse_int("offset", request.args.get("offset", 0), minimum=0)
    rows = rows[offset:]
    if request.args.get("limit") is not None:
        rows = rows[:parse_int("limit", request.args["limit"], minimum=0)]
    return json_response({"manageable-volumes": rows})


@route("/manageable_volumes")
def list_manageable():
    return _list(detailed=False)


@route("/manageable_volumes/detail")
def list_manageable_detail():
    return _list(detailed=True)


def _manage():
    require_admin("volume_extension:volume_manage")
    spec = body_object("volume")
    _check_host(spec.get("host") or spec.get("cluster"))
    ref = spec.get("ref")
    if not isinstance(ref, dict) or not isinstance(ref.get("source-name"), str):
        raise bad_request("Manage existing volume failed due to invalid backend reference "
                          f"{ref}: Reference must contain source-name element.")
    who = caller()
    cinder = state()
    with cinder.lock:
        with cinder.replica_lock:
            entry = cinder.replicas.get(ref["source-name"])
            entry = None if entry is None else dict(entry)
        if entry is None:
            raise bad_request(f"Manage existing volume failed due to invalid backend "
                              f"reference {ref}: Specified logical volume does not exist.")
        if entry["cinder_id"] is not None:
            raise bad_request(f"Manage existing volume failed: {entry['name']} is already "
                              f"managed as volume {entry['cinder_id']}.")
        bootable = to_bool("bootable", spec.get("bootable"), default=entry["bootable"])
        volume = cinder.create_volume(
            who.project_id, who.user_id, entry["size"],
            type_name=spec.get("volume_type") or entry["type_name"],
            name=spec.get("name"), description=spec.get("description"),
            metadata=spec.get("metadata") if isinstance(spec.get("metadata"), dict) else None,
            content=(entry["content_digest"], entry["content_size"]), bootable=bootable,
            source={"volume_image_metadata": entry["image_metadata"]},
            az=spec.get("availability_zone"), replica_of=entry["name"])
        with cinder.replica_lock:
            if entry["name"] in cinder.replicas:
                cinder.replicas[entry["name"]]["cinder_id"] = volume["id"]
        return json_response({"volume": volume_view(volume, extended=False)}, 202)


@route("/manageable_volumes", methods=("POST",))
def manage_volume():
    if not at_least(8):
        raise CinderError(404, "The resource could not be found.")
    return _manage()


@route("/os-volume-manage", methods=("POST",))
def manage_volume_legacy():
    return _manage()
