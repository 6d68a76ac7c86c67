"""Image data: ``PUT``/``GET /v2/images/{id}/file``, streamed in chunks.

The region lock is held only to check and flip the image's status; bytes move
outside it, so a 1 GiB upload neither blocks the region nor sits in memory. An
image deleted while its data was uploading loses the data (Glance answers 410).
"""

from __future__ import annotations

import re

from flask import Response, request

from regionsim import web
from regionsim.services.glance import store
from regionsim.services.glance.common import bp, owned_image, state, visible_image
from regionsim.services.glance.errors import GlanceError, bad_request, conflict, forbidden
from regionsim.services.glance.state import now

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@bp.put("/v2/images/<image_id>/file")
def upload_image_data(image_id):
    st, caller = state(), web.caller()
    if request.mimetype != "application/octet-stream":
        raise GlanceError(415, f"Content-Type {request.mimetype or '(none)'} not supported; "
                               "use application/octet-stream")
    token = object()
    with st.region.lock:
        image = owned_image(st, image_id, caller, "upload_image")
        if image["status"] != "queued":
            raise conflict(f"Image status transition from {image['status']} to saving is not "
                           "allowed")
        if not image["disk_format"] or not image["container_format"]:
            raise bad_request("Properties disk_format, container_format must be set prior to "
                              "saving data.")
        image.update(status="saving", _upload=token, updated_at=now())
        disk_format, path = image["disk_format"], st.path_of(image_id)
    try:
        digests = store.write_stream(path, store.read_chunks(request.stream), disk_format)
    except BaseException:
        with st.region.lock:
            if st.images.get(image_id) is image and image["_upload"] is token:
                image.update(status="queued", _upload=None, updated_at=now())
        raise
    with st.region.lock:
        if st.images.get(image_id) is not image or image["_upload"] is not token:
            store.remove(path)
            raise GlanceError(410, f"Image {image_id} could not be found after upload. The "
                                   "image may have been deleted during the upload.")
        st.finish_upload(image, path, digests)
    return web.json_response(None, 204)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, length)`` of a single ``Range: bytes=a-b`` request, or None for all."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        start = max(size - int(last), 0)
        end = size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise GlanceError(416, f"Requested range {header} not satisfiable")
    return start, end - start + 1


@bp.get("/v2/images/<image_id>/file")
def download_image_data(image_id):
    st, caller = state(), web.caller()
    with st.region.lock:
        image = visible_image(st, image_id, caller)
        if image["status"] == "deactivated" and not caller.is_admin:
            raise forbidden("The requested image has been deactivated. Image data download is "
                            "forbidden.")
        if image["_path"] is None or image["status"] not in ("active", "deactivated"):
            return Response(status=204)
        # Opened under the lock: a concurrent delete unlinks the file, not our handle.
        handle = open(image["_path"], "rb")  # noqa: SIM115 - closed by the generator
        size, checksum = image["size"], image["checksum"]
    span = _byte_range(request.headers.get("Range"), size)
    start, length = span if span is not None else (0, size)
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{size}"
    else:
        headers["Content-MD5"] = checksum
    return Response(store.file_chunks(handle, start, length), status=status, headers=headers,
                    direct_passthrough=True)
