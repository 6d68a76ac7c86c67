"""The Glance state of one region, and what Nova and Cinder may ask of it.

Methods expect the caller to hold ``region.lock``, except that image bytes are
written and read outside it (see ``data.py``).
"""

from __future__ import annotations

import hashlib
import os
import time

from regionsim.services.glance import store

# Image attributes Glance keeps in columns; anything else is an extra property.
CORE = ("id", "name", "status", "visibility", "protected", "os_hidden", "owner", "checksum",
        "os_hash_algo", "os_hash_value", "size", "virtual_size", "min_disk", "min_ram",
        "disk_format", "container_format", "created_at", "updated_at", "tags")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_record(image_id: str, owner: str) -> dict:
    """A queued image with Glance's defaults (visibility ``shared`` since Ocata)."""
    stamp = now()
    return {"id": image_id, "name": None, "status": "queued", "visibility": "shared",
            "protected": False, "os_hidden": False, "owner": owner, "checksum": None,
            "os_hash_algo": None, "os_hash_value": None, "size": None, "virtual_size": None,
            "min_disk": 0, "min_ram": 0, "disk_format": None, "container_format": None,
            "created_at": stamp, "updated_at": stamp, "tags": [], "properties": {},
            "_path": None, "_sha256": None, "_upload": None}


def view(image: dict) -> dict:
    """The wire form: core attributes, extra properties at top level, and the links."""
    body = {key: image[key] for key in CORE}
    body["tags"] = list(image["tags"])
    body.update(image["properties"])
    body["self"] = f"/v2/images/{image['id']}"
    body["file"] = f"/v2/images/{image['id']}/file"
    body["schema"] = "/v2/schemas/image"
    return body


class State:
    """Images, their members and their files in one region."""

    def __init__(self, region) -> None:
        self.region = region
        self.images: dict[str, dict] = {}
        # image id -> member project id -> member record
        self.members: dict[str, dict[str, dict]] = {}
        self._data_dir: str | None = None

    @property
    def data_dir(self) -> str:
        """Where this region's image files go (created on first use)."""
        if self._data_dir is None:
            self._data_dir = store.region_dir(self.region.name)
        return self._data_dir

    @data_dir.setter
    def data_dir(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)
        self._data_dir = path

    def path_of(self, image_id: str) -> str:
        return os.path.join(self.data_dir, image_id)

    # -- visibility -----------------------------------------------------------

    def member_status(self, image_id: str, project_id: str) -> str | None:
        member = self.members.get(image_id, {}).get(project_id)
        return None if member is None else member["status"]

    def image_visible_to(self, image: dict, project_id: str, is_admin: bool) -> bool:
        """Whether a project may see (and boot) ``image``, as Glance's ``is_image_visible``.

        A shared image is visible to its members whatever their status, as a GET
        by id is in Glance; listings show only accepted memberships by default.
        """
        if is_admin or image["owner"] is None or image["owner"] == project_id:
            return True
        if image["visibility"] in ("public", "community"):
            return True
        return (image["visibility"] == "shared"
                and self.member_status(image["id"], project_id) is not None)

    # -- contract with Nova and Cinder ----------------------------------------

    def get_image(self, image_id: str) -> dict | None:
        return self.images.get(image_id)

    def create_snapshot_image(self, owner: str, name: str, properties: dict, min_disk: int,
                              min_ram: int, data: bytes = b"") -> dict:
        """An active private image holding ``data`` (Nova's createImage)."""
        image = new_record(self.region.new_id(), owner)
        image.update(name=name, visibility="private", min_disk=int(min_disk or 0),
                     min_ram=int(min_ram or 0), disk_format="qcow2", container_format="bare",
                     properties={k: str(v) for k, v in (properties or {}).items()})
        path = self.path_of(image["id"])
        digests = store.write_stream(path, [data], "raw")
        self.finish_upload(image, path, digests)
        image["virtual_size"] = digests.size
        self.images[image["id"]] = image
        return image

    def image_content_digest(self, image_id: str) -> str:
        """The sha256 hex digest of the image's bytes (empty bytes for no data).

        :raises KeyError: no such image.
        """
        image = self.images[image_id]
        return image["_sha256"] or EMPTY_SHA256

    # -- shared steps ---------------------------------------------------------

    def finish_upload(self, image: dict, path: str, digests: store.Digests) -> None:
        image.update(status="active", size=digests.size, checksum=digests.md5,
                      os_hash_algo="sha512", os_hash_value=digests.sha512,
                      virtual_size=digests.virtual_size, updated_at=now(), _path=path,
                      _sha256=digests.sha256, _upload=None)

    def delete_image(self, image_id: str) -> None:
        image = self.images.pop(image_id)
        self.members.pop(image_id, None)
        store.remove(image["_path"])
