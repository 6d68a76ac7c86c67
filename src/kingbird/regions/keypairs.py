"""Nova keypairs of a given user, read and written with the service's credentials.

Nova keypairs belong to a user, not a project. From microversion 2.10 an admin
names the user explicitly (``?user_id=`` on reads and deletes, ``user_id`` in the
body of a create), which is how a sync job acts for its creator without holding
the creator's token.
"""

from __future__ import annotations

from urllib.parse import quote

from kingbird.regions.rest import MISSING, RegionRest

MICROVERSION = "2.10"


class Keypairs:
    def __init__(self, rest: RegionRest):
        self.rest = rest

    def get(self, region: str, user_id: str, name: str) -> dict | None:
        """The keypair ``name`` of ``user_id`` (``name``, ``public_key``, ``type``...),
        or None if the user has none by that name."""
        answer = self.rest.call(region, "compute", "GET", f"/os-keypairs/{quote(name, safe='')}",
                                f"read keypair {name}", params={"user_id": user_id},
                                microversion=MICROVERSION, missing_ok=True)
        return None if answer is MISSING else answer["keypair"]

    def create(self, region: str, user_id: str, name: str, public_key: str,
               key_type: str = "ssh") -> dict:
        """Import ``public_key`` as the keypair ``name`` of ``user_id``."""
        body = {"keypair": {"name": name, "public_key": public_key, "type": key_type,
                            "user_id": user_id}}
        return self.rest.call(region, "compute", "POST", "/os-keypairs",
                              f"create keypair {name}", body=body,
                              microversion=MICROVERSION)["keypair"]

    def delete(self, region: str, user_id: str, name: str) -> None:
        """Delete the keypair; a keypair already gone is not an error."""
        self.rest.call(region, "compute", "DELETE", f"/os-keypairs/{quote(name, safe='')}",
                       f"delete keypair {name}", params={"user_id": user_id},
                       microversion=MICROVERSION, missing_ok=True)
