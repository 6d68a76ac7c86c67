"""Images: the bytes streamed from the source Glance to the target Glance.

The data goes through in chunks of ``CHUNK_SIZE`` — never the whole image in
memory or on disk — from the source's download response straight into the
target's upload request. The copy keeps the source's id when the target has no
image with it, its formats, visibility, minimums and properties, and belongs to
the job's project. The checksum Glance computed in the target must equal the
source's; an image that does not match is deleted.

The checkpoint names the target image being made (and, with force, the images
it replaces, deleted only once the copy is verified), so a resumed entry either
finds its copy complete or deletes the partial one and starts again: never two
copies.

A transient failure of the upload (or of the download feeding it) is not
retried here: the bytes were streamed once and cannot be sent again, so the
entry's attempt fails (its partial copy deleted), and the engine's next attempt
of the entry starts again from a new download (``[engine] entry_retries``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http import HTTPStatus

from kingbird.core.exceptions import RegionError, WorkFailed
from kingbird.regions.copying import (
    Action,
    Copier,
    Progress,
    Scope,
    Task,
    already_exists,
    decide,
    not_found,
)
from kingbird.regions.images import Images

CHUNK_SIZE = 1 << 20

# Attributes copied as they are; ``protected`` is set last (a protected partial
# copy could not be deleted).
_COPIED = ("name", "disk_format", "container_format", "visibility", "min_disk", "min_ram",
           "tags", "os_hidden")
# Glance's own attributes, computed or read-only: never properties to copy.
_GLANCE_OWN = frozenset({
    "id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
    "created_at", "updated_at", "file", "schema", "self", "direct_url", "locations",
    "stores", "owner", "protected", "members",
})


def properties(image: dict) -> dict:
    """The image's additional properties (pure)."""
    return {k: v for k, v in image.items()
            if k not in _GLANCE_OWN and k not in _COPIED and not k.startswith("os_glance")}


def image_record(source: dict, owner: str, image_id: str) -> dict:
    """The ``POST /v2/images`` body of the copy (pure)."""
    record = {k: source[k] for k in _COPIED if source.get(k) is not None}
    record.update(properties(source))
    record.update({"id": image_id, "owner": owner, "protected": False})
    return record


def same_data(source: dict, target: dict) -> bool:
    """The target is active with the source's bytes, per Glance's checksums (pure)."""
    if target.get("status") != "active" or target.get("size") != source.get("size"):
        return False
    if source.get("checksum") and target.get("checksum") != source["checksum"]:
        return False
    algo, value = source.get("os_hash_algo"), source.get("os_hash_value")
    if value and target.get("os_hash_algo") == algo and target.get("os_hash_value") != value:
        return False
    return bool(source.get("checksum") or value)


def same_image(source: dict, target: dict) -> bool:
    """Same bytes and same metadata (pure)."""
    keep = {"id", "owner"}
    wanted = {k: v for k, v in image_record(source, "", "").items() if k not in keep}
    present = {k: v for k, v in image_record(target, "", "").items() if k not in keep}
    return (same_data(source, target) and wanted == present
            and bool(source.get("protected")) == bool(target.get("protected")))


class ImageCopier(Copier):
    resource_type = "image"

    def __init__(self, images: Images, chunk_size: int = CHUNK_SIZE):
        self.images = images
        self.chunk_size = chunk_size

    def locate(self, region: str, scope: Scope, resource: str) -> list[dict]:
        return self.images.find(region, scope.project_id, resource)

    def copy(self, task: Task) -> None:
        source = self._source(task)
        checkpoint = task.progress.checkpoint or {}
        ours = checkpoint.get("image_id")
        if ours:
            made = self.images.get(task.target, ours)
            if made is not None and same_data(source, made):
                self._finish(task, source, made, checkpoint.get("replaces", []))
                return
            if made is not None:
                self._delete(task.target, made)
        clashing = [i for i in self._clashing(task, source) if i["id"] != ours]
        same = len(clashing) == 1 and same_image(source, clashing[0])
        action = decide(bool(clashing), same, task.force, task.resumed)
        if action is Action.DONE:
            return
        if action is Action.REFUSE:
            raise already_exists("image", source.get("name") or source["id"], task.target)
        made = self._create_and_upload(task, source, [i["id"] for i in clashing])
        self._finish(task, source, made, [i["id"] for i in clashing])

    def _source(self, task: Task) -> dict:
        found = self.images.find(task.source, task.scope.project_id, task.resource)
        if not found:
            raise not_found("image", task.resource, task.source)
        if len(found) > 1:
            raise WorkFailed(f"several images are named {task.resource} in {task.source}; "
                             "sync by id")
        source = found[0]
        if source.get("status") != "active" or source.get("size") is None:
            raise WorkFailed(f"image {task.resource} is {source.get('status')} in "
                             f"{task.source}: only active images can be copied")
        return source

    def _clashing(self, task: Task, source: dict) -> list[dict]:
        """Target images of the project with the source's name or id."""
        project = task.scope.project_id
        found = {}
        if source.get("name"):
            found = {i["id"]: i for i in self.images.by_name(task.target, project,
                                                             source["name"])}
        same_id = self.images.get(task.target, source["id"])
        if same_id is not None and same_id.get("owner") == project:
            found[same_id["id"]] = same_id
        return list(found.values())

    def _create_and_upload(self, task: Task, source: dict, replaces: list[str]) -> dict:
        image_id = self._record(task, source, replaces)
        try:
            self._upload(task, source, image_id)
        except RegionError:
            self._delete(task.target, self.images.get(task.target, image_id))
            raise
        made = self.images.get(task.target, image_id)
        if made is None or not same_data(source, made):
            self._delete(task.target, made)
            raise WorkFailed(f"image {source['id']}: the copy in {task.target} does not "
                             "match the source's checksum; deleted")
        return made

    def _record(self, task: Task, source: dict, replaces: list[str]) -> str:
        """Create the target image record and return its id: the source's id when the
        target has no image with it, else a new one."""
        candidates = [source["id"]] if self.images.get(task.target, source["id"]) is None else []
        while True:
            image_id = candidates.pop(0) if candidates else str(uuid.uuid4())
            # Recorded before the create: a takeover knows which image may exist.
            task.progress.save({"image_id": image_id, "replaces": replaces})
            try:
                self.images.create(task.target,
                                   image_record(source, task.scope.project_id, image_id))
                return image_id
            except RegionError as exc:
                if not (exc.status == HTTPStatus.CONFLICT and image_id == source["id"]):
                    raise

    def _upload(self, task: Task, source: dict, image_id: str) -> None:
        data = self.images.open_data(task.source, source["id"], self.chunk_size)
        try:
            self.images.upload(task.target, image_id, _watched(data, task.progress),
                               source["size"])
        finally:
            data.close()

    def _finish(self, task: Task, source: dict, made: dict, replaces: list[str]) -> None:
        if source.get("protected") and not made.get("protected"):
            self.images.patch(task.target, made["id"],
                              [{"op": "replace", "path": "/protected", "value": True}])
        for image_id in replaces:
            if image_id != made["id"]:
                self._delete(task.target, self.images.get(task.target, image_id))

    def _delete(self, region: str, image: dict | None) -> None:
        if image is None:
            return
        if image.get("protected"):
            self.images.patch(region, image["id"],
                              [{"op": "replace", "path": "/protected", "value": False}])
        self.images.delete(region, image["id"])


def _watched(chunks, progress: Progress) -> Iterator[bytes]:
    """The chunks, stopping the upload as soon as the entry is no longer ours."""
    for chunk in chunks:
        progress.check()
        yield chunk
