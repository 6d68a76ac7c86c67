"""Cinder as disaster recovery uses it: volumes, snapshots, backups and their
records, replicas of other regions' volumes, transfers between projects.

Spoken at microversion 3.55 (manageable volumes need 3.8, backup metadata
3.43). Export and import of backup records, managing a replica and promoting it
are admin actions; creating volumes and backups acts in the token's project.
"""

from __future__ import annotations

from urllib.parse import quote

from kingbird.regions.rest import MISSING, RegionRest

MICROVERSION = "3.55"


def _q(value: str) -> str:
    return quote(value, safe="")


class Volumes:
    def __init__(self, rest: RegionRest):
        self.rest = rest

    def _call(self, region: str, method: str, path: str, what: str, **kwargs):
        return self.rest.call(region, "block_storage", method, path, what,
                              microversion=MICROVERSION, **kwargs)

    # -- volumes ------------------------------------------------------------------------

    def get(self, region: str, volume_id: str) -> dict | None:
        answer = self._call(region, "GET", f"/volumes/{_q(volume_id)}",
                            f"read volume {volume_id}", missing_ok=True)
        return None if answer is MISSING else answer["volume"]

    def list_detail(self, region: str, **filters) -> list[dict]:
        return self._call(region, "GET", "/volumes/detail", "list volumes",
                          params=filters)["volumes"]

    def create(self, region: str, body: dict) -> dict:
        return self._call(region, "POST", "/volumes", f"create volume {body.get('name')}",
                          body={"volume": body})["volume"]

    def delete(self, region: str, volume_id: str) -> None:
        """Delete the volume; one already gone is not an error."""
        self._call(region, "DELETE", f"/volumes/{_q(volume_id)}", f"delete volume {volume_id}",
                   missing_ok=True)

    def action(self, region: str, volume_id: str, name: str, body: dict | None = None) -> None:
        """A volume action (``os-promote-replica``, ``os-reenable-replica``...)."""
        self._call(region, "POST", f"/volumes/{_q(volume_id)}/action",
                   f"{name} volume {volume_id}", body={name: body})

    # -- snapshots ----------------------------------------------------------------------

    def get_snapshot(self, region: str, snapshot_id: str) -> dict | None:
        answer = self._call(region, "GET", f"/snapshots/{_q(snapshot_id)}",
                            f"read snapshot {snapshot_id}", missing_ok=True)
        return None if answer is MISSING else answer["snapshot"]

    def delete_snapshot(self, region: str, snapshot_id: str) -> None:
        self._call(region, "DELETE", f"/snapshots/{_q(snapshot_id)}",
                   f"delete snapshot {snapshot_id}", missing_ok=True)

    # -- backups ------------------------------------------------------------------------

    def get_backup(self, region: str, backup_id: str) -> dict | None:
        answer = self._call(region, "GET", f"/backups/{_q(backup_id)}",
                            f"read backup {backup_id}", missing_ok=True)
        return None if answer is MISSING else answer["backup"]

    def find_backups(self, region: str, name: str) -> list[dict]:
        """The caller's backups named ``name``."""
        found = self._call(region, "GET", "/backups/detail", f"find backup {name}",
                           params={"name": name})["backups"]
        return [b for b in found if b.get("name") == name]

    def create_backup(self, region: str, body: dict) -> dict:
        return self._call(region, "POST", "/backups", f"back up volume {body.get('volume_id')}",
                          body={"backup": body})["backup"]

    def delete_backup(self, region: str, backup_id: str) -> None:
        self._call(region, "DELETE", f"/backups/{_q(backup_id)}", f"delete backup {backup_id}",
                   missing_ok=True)

    def export_record(self, region: str, backup_id: str) -> dict:
        """``{backup_service, backup_url}``: what another region imports (admin)."""
        return self._call(region, "GET", f"/backups/{_q(backup_id)}/export_record",
                          f"export backup {backup_id}")["backup-record"]

    def import_record(self, region: str, record: dict) -> dict:
        """Import an exported backup record (admin); the backup keeps its id."""
        return self._call(region, "POST", "/backups/import_record",
                          f"import backup record into {region}",
                          body={"backup-record": dict(record)})["backup"]

    def restore(self, region: str, backup_id: str, volume_id: str) -> dict:
        """Restore a backup into an existing, available volume."""
        return self._call(region, "POST", f"/backups/{_q(backup_id)}/restore",
                          f"restore backup {backup_id} into volume {volume_id}",
                          body={"restore": {"volume_id": volume_id}})["restore"]

    # -- replicas of other regions' volumes (admin) -------------------------------------

    def backend_hosts(self, region: str) -> list[str]:
        """The hosts of the region's ``cinder-volume`` services (backends)."""
        services = self._call(region, "GET", "/os-services", "list volume services",
                              params={"binary": "cinder-volume"})["services"]
        return [s["host"] for s in services if s.get("binary") == "cinder-volume"]

    def manageable(self, region: str, host: str) -> list[dict]:
        """Volumes on ``host``'s backend that Cinder does not manage yet (or does)."""
        return self._call(region, "GET", "/manageable_volumes/detail",
                          f"list manageable volumes of {host}",
                          params={"host": host})["manageable-volumes"]

    def manage(self, region: str, body: dict) -> dict:
        """Bring a volume of a backend under Cinder's management, in the caller's project."""
        return self._call(region, "POST", "/manageable_volumes",
                          f"manage volume {body.get('ref')}", body={"volume": body})["volume"]

    # -- transfers ----------------------------------------------------------------------

    def create_transfer(self, region: str, volume_id: str, name: str) -> dict:
        """Offer a volume to another project: ``{id, auth_key, ...}``."""
        return self._call(region, "POST", "/os-volume-transfer",
                          f"offer volume {volume_id}",
                          body={"transfer": {"volume_id": volume_id, "name": name}})["transfer"]

    def list_transfers(self, region: str) -> list[dict]:
        return self._call(region, "GET", "/os-volume-transfer/detail",
                          "list volume transfers")["transfers"]

    def accept_transfer(self, region: str, transfer_id: str, auth_key: str) -> dict:
        return self._call(region, "POST", f"/os-volume-transfer/{_q(transfer_id)}/accept",
                          f"accept volume transfer {transfer_id}",
                          body={"accept": {"auth_key": auth_key}})["transfer"]

    def delete_transfer(self, region: str, transfer_id: str) -> None:
        self._call(region, "DELETE", f"/os-volume-transfer/{_q(transfer_id)}",
                   f"cancel volume transfer {transfer_id}", missing_ok=True)
