"""Volume transfers of the simulated Cinder: give a volume to another project.

The owner (or an admin) creates a transfer of an ``available`` volume, which
waits in ``awaiting-transfer`` until someone in another project accepts it with
the transfer's id and ``auth_key``; the volume, its snapshots and their quota
usage then move to the accepting project. Served at ``/os-volume-transfer`` and,
from 3.55, ``/volume-transfers``, as Cinder does.
"""

from __future__ import annotations

import secrets

from regionsim.services.cinder import quota
from regionsim.services.cinder.common import (
    CinderError,
    at_least,
    bad_request,
    body_object,
    iso,
    links,
    not_found,
    now,
    route,
    state,
)
from regionsim.services.cinder.volumes import find_volume
from regionsim.web import caller, json_response


def _view(transfer: dict, detailed: bool = True) -> dict:
    body = {"id": transfer["id"], "name": transfer["name"],
            "volume_id": transfer["volume_id"],
            "links": links("os-volume-transfer", transfer["id"], transfer["project_id"])}
    if detailed:
        body["created_at"] = iso(transfer["created_at"])
    return body


def _find(transfer_id: str) -> dict:
    transfer = state().transfers.get(transfer_id)
    who = caller()
    if transfer is None or (transfer["project_id"] != who.project_id and not who.is_admin):
        raise not_found(f"Transfer {transfer_id} could not be found.")
    return transfer


def _new_style() -> None:
    if not at_least(55):
        raise CinderError(404, "The resource could not be found.")


def create_transfer():
    spec = body_object("transfer")
    volume_id = spec.get("volume_id")
    if not isinstance(volume_id, str):
        raise bad_request("Incorrect request body format")
    cinder = state()
    with cinder.lock:
        volume = find_volume(volume_id)
        if volume["status"] != "available":
            raise bad_request(f"Invalid volume: status must be available, currently "
                              f"{volume['status']}")
        transfer = {"id": cinder.region.new_id(), "name": spec.get("name"),
                    "volume_id": volume["id"], "project_id": volume["project_id"],
                    "auth_key": secrets.token_hex(8), "created_at": now()}
        cinder.transfers[transfer["id"]] = transfer
        volume["status"] = "awaiting-transfer"
        body = _view(transfer)
        body["auth_key"] = transfer["auth_key"]
        return json_response({"transfer": body}, 202)


def list_transfers(detailed: bool):
    who = caller()
    cinder = state()
    with cinder.lock:
        items = [_view(t, detailed) for t in cinder.transfers.values()
                 if t["project_id"] == who.project_id]
    return json_response({"transfers": items})


def show_transfer(transfer_id: str):
    with state().lock:
        return json_response({"transfer": _view(_find(transfer_id))})


def delete_transfer(transfer_id: str):
    cinder = state()
    with cinder.lock:
        transfer = _find(transfer_id)
        del cinder.transfers[transfer_id]
        volume = cinder.volumes.get(transfer["volume_id"])
        if volume is not None and volume["status"] == "awaiting-transfer":
            volume["status"] = "available"
    return json_response(None, 202)


def _move(record: dict, by_project: dict, target: str) -> None:
    by_project.get(record["project_id"], {}).pop(record["id"], None)
    record["project_id"] = target
    by_project.setdefault(target, {})[record["id"]] = record


def accept_transfer(transfer_id: str):
    spec = body_object("accept")
    who = caller()
    cinder = state()
    with cinder.lock:
        transfer = cinder.transfers.get(transfer_id)
        if transfer is None:
            raise not_found(f"Transfer {transfer_id} could not be found.")
        if spec.get("auth_key") != transfer["auth_key"]:
            raise bad_request(f"Invalid auth key: Attempt to transfer {transfer_id} with "
                              "invalid auth key.")
        volume = cinder.volumes[transfer["volume_id"]]
        snapshots = [cinder.snapshots[s] for s in volume["snapshot_ids"]]
        volume_deltas = quota.volume_deltas(volume["size"], volume["type_name"])
        deltas = dict(volume_deltas)
        for snapshot in snapshots:
            for key, value in quota.snapshot_deltas(snapshot["size"],
                                                    snapshot["type_name"]).items():
                deltas[key] = deltas.get(key, 0) + value
        cinder.reserve(who.project_id, deltas, "volumes", volume["size"])
        cinder.quotas.remove_usage(volume["project_id"], deltas)
        _move(volume, cinder.volumes_by_project, who.project_id)
        volume["user_id"] = who.user_id
        for snapshot in snapshots:
            _move(snapshot, cinder.snapshots_by_project, who.project_id)
        volume["status"] = "available"
        volume["updated_at"] = now()
        del cinder.transfers[transfer_id]
        return json_response({"transfer": _view(transfer, detailed=False)}, 202)


def list_summary():
    return list_transfers(False)


def list_detail():
    return list_transfers(True)


def _register(prefix: str, check) -> None:
    """Serve every transfer route under ``prefix``, after ``check`` (if any)."""
    suffix = prefix.replace("/", "_").replace("-", "_")

    def guarded(view):
        def wrapper(**kwargs):
            if check is not None:
                check()
            return view(**kwargs)
        wrapper.__name__ = view.__name__ + suffix
        return wrapper

    route(prefix, methods=("POST",))(guarded(create_transfer))
    route(prefix)(guarded(list_summary))
    route(f"{prefix}/detail")(guarded(list_detail))
    route(f"{prefix}/<transfer_id>")(guarded(show_transfer))
    route(f"{prefix}/<transfer_id>", methods=("DELETE",))(guarded(delete_transfer))
    route(f"{prefix}/<transfer_id>/accept", methods=("POST",))(guarded(accept_transfer))


_register("/os-volume-transfer", None)
_register("/volume-transfers", _new_style)
