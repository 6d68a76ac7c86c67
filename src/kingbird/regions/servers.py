"""Nova servers as disaster recovery uses them: read, snapshot, boot, attach, delete.

Read and written at microversion 2.46: the server's flavor comes by id (2.47
embeds it without one), ``createImage`` answers the image id in its body (2.45),
``networks: "none"`` is allowed (2.37). Which credentials act is the caller's
choice: a ``RegionRest`` with the service's (admin) credentials, or one scoped to
the VNF's project through a trust (servers are created in the token's project).
"""

from __future__ import annotations

from urllib.parse import quote

from kingbird.regions.rest import MISSING, RegionRest

MICROVERSION = "2.46"


def _q(value: str) -> str:
    return quote(value, safe="")


class Servers:
    def __init__(self, rest: RegionRest):
        self.rest = rest

    def _call(self, region: str, method: str, path: str, what: str, **kwargs):
        return self.rest.call(region, "compute", method, path, what,
                              microversion=MICROVERSION, **kwargs)

    def get(self, region: str, server_id: str) -> dict | None:
        """The server, or None if it does not exist (or the caller cannot see it)."""
        answer = self._call(region, "GET", f"/servers/{_q(server_id)}",
                            f"read server {server_id}", missing_ok=True)
        return None if answer is MISSING else answer["server"]

    def list_detail(self, region: str, **filters) -> list[dict]:
        """The caller's servers matching ``filters`` (``name`` is a regular expression)."""
        return self._call(region, "GET", "/servers/detail", "list servers",
                          params=filters)["servers"]

    def create(self, region: str, body: dict) -> dict:
        """Boot a server from the ``server`` body of ``POST /servers``."""
        return self._call(region, "POST", "/servers", f"boot server {body.get('name')}",
                          body={"server": body})["server"]

    def delete(self, region: str, server_id: str) -> None:
        """Delete the server; one already gone is not an error."""
        self._call(region, "DELETE", f"/servers/{_q(server_id)}",
                   f"delete server {server_id}", missing_ok=True)

    def create_image(self, region: str, server_id: str, name: str,
                     metadata: dict[str, str]) -> str:
        """Snapshot the server (``createImage``); returns the Glance image id."""
        answer = self._call(region, "POST", f"/servers/{_q(server_id)}/action",
                            f"snapshot server {server_id}",
                            body={"createImage": {"name": name, "metadata": metadata}})
        return answer["image_id"]

    def attachments(self, region: str, server_id: str) -> list[dict]:
        """The server's ``volumeAttachments`` (``volumeId``, ``device``)."""
        return self._call(region, "GET", f"/servers/{_q(server_id)}/os-volume_attachments",
                          f"list volumes of server {server_id}")["volumeAttachments"]

    def attach(self, region: str, server_id: str, volume_id: str,
               device: str | None = None) -> dict:
        """Attach a volume (``device`` is a hint Nova may not follow)."""
        body: dict = {"volumeId": volume_id}
        if device:
            body["device"] = device
        return self._call(region, "POST", f"/servers/{_q(server_id)}/os-volume_attachments",
                          f"attach volume {volume_id} to server {server_id}",
                          body={"volumeAttachment": body})["volumeAttachment"]
