"""Volume replication in the simulated Cinder.

Real Cinder replicates per *backend* ("Cheesecake", v2.1 replication): a volume
type with the extra spec ``replication_enabled='<is> True'`` puts its volumes
on a replicating backend, the volume shows ``replication_status: enabled``,
and an admin fails the whole backend over with ``POST
/os-services/failover_host`` (or ``/os-services/failover`` from 3.26), after
which its replicated volumes show ``failed-over``; failing back uses
``backend_id: "default"``. The simulator serves exactly that for its single
backend ``regionsim@lvmdriver-1``.

Replication to the other regions of the simulator, and managing a replica
there, are in ``replicas``.

For a per-volume failover, which a multi-region control plane wants without
failing a whole backend over, it also serves the admin volume actions
``os-promote-replica`` (status ``failed-over``) and ``os-reenable-replica``
(back to ``enabled``), the names of Cinder's original per-volume replication
API (``volume_extension:volume_admin_actions``). Both refuse a volume whose
type does not replicate, as Cinder did.
"""

from __future__ import annotations

from regionsim.services.cinder import replicas
from regionsim.services.cinder.common import (
    AZ,
    BACKEND_HOST,
    CinderError,
    at_least,
    bad_request,
    iso,
    now,
    require_admin,
    route,
    state,
)
from regionsim.web import json_body, json_response

_RULE = "volume_extension:volume_admin_actions:{}"

def _require_replicated(volume: dict) -> None:
    if volume["replication_status"] in (None, "disabled", "not-capable"):
        raise bad_request(f"Invalid volume: Replication is not enabled for volume "
                          f"{volume['id']}")


def promote(cinder, volume: dict, spec) -> None:
    """Make this volume's replica the primary: ``replication_status`` becomes failed-over.

    A managed replica of another region's volume (see ``replicas``) takes the
    last replicated data and stops being a replication target.
    """
    require_admin(_RULE.format("promote_replica"))
    _require_replicated(volume)
    if volume.get("replica_of"):
        replicas.promote_replica(cinder, volume)
    volume["replication_status"] = "failed-over"
    volume["updated_at"] = now()


def reenable(cinder, volume: dict, spec) -> None:
    """Resume replicating a promoted volume: ``replication_status`` is enabled again."""
    require_admin(_RULE.format("reenable_replica"))
    _require_replicated(volume)
    if volume.get("replica_of"):
        raise bad_request(f"Invalid volume: volume {volume['id']} is a replication target; "
                          "promote it first")
    volume["replication_status"] = "enabled"
    volume["updated_at"] = now()
    cinder.replicate(volume)


def _failover(spec: dict):
    cinder = state()
    host = spec.get("host") or spec.get("cluster")
    if host not in (BACKEND_HOST, BACKEND_HOST.split("@")[0]):
        raise CinderError(404, f"Host {host} could not be found.")
    backend_id = spec.get("backend_id")
    with cinder.lock:
        failing_back = backend_id == "default"
        if cinder.active_backend_id is not None and not failing_back:
            raise bad_request("Invalid input received: Host is already failed over.")
        cinder.active_backend_id = None if failing_back else (backend_id or "secondary")
        for volume in cinder.volumes.values():
            if volume["replication_status"] in ("enabled", "failed-over"):
                volume["replication_status"] = "enabled" if failing_back else "failed-over"
                volume["updated_at"] = now()
    return json_response(None, 202)


@route("/os-services/failover_host", methods=("PUT", "POST"))
def failover_host():
    require_admin("volume:failover_host")
    return _failover(json_body() or {})


@route("/os-services/failover", methods=("PUT", "POST"))
def failover():
    require_admin("volume:failover_host")
    if not at_least(26):
        raise CinderError(404, "The resource could not be found.")
    return _failover(json_body() or {})


@route("/os-services")
def list_services():
    require_admin("volume_extension:services:index")
    cinder = state()
    with cinder.lock:
        status = "failed-over" if cinder.active_backend_id else "enabled"
        backend = cinder.active_backend_id
    common = {"status": "enabled", "state": "up", "zone": AZ, "updated_at": iso(now()),
              "disabled_reason": None}
    services = [
        {**common, "binary": "cinder-scheduler", "host": BACKEND_HOST.split("@")[0]},
        {**common, "binary": "cinder-volume", "host": BACKEND_HOST,
         "replication_status": status, "active_backend_id": backend, "frozen": False},
        {**common, "binary": "cinder-backup", "host": BACKEND_HOST.split("@")[0]},
    ]
    return json_response({"services": services})
