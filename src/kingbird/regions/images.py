"""Glance v2 images of a given project, and their data as streams.

Image data never passes through memory or disk as a whole: ``open_data`` returns
the source's response body as an iterator of chunks, and ``upload`` sends an
iterator as the request body with the size announced up front (a plain
Content-Length upload, not chunked transfer encoding, which some Glance
deployments behind proxies refuse).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote

import requests
from openstack import exceptions as sdk_exc

from kingbird.regions import calls
from kingbird.regions.rest import MISSING, RegionRest

_PATCH_TYPE = "application/openstack-images-v2.1-json-patch"


class SizedBody:
    """An iterable request body whose length is known: requests sends it as is,
    chunk after chunk, with a Content-Length header."""

    def __init__(self, chunks: Iterable[bytes], size: int):
        self._chunks = chunks
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._chunks)


class ImageData:
    """An open download: iterate it for chunks, close it when done."""

    def __init__(self, region: str, response, chunk_size: int):
        self.region = region
        self._response = response
        self.chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_content(self.chunk_size)
        except requests.RequestException as exc:
            raise calls.region_error(self.region, "image download interrupted", exc) from exc

    def close(self) -> None:
        self._response.close()


class Images:
    def __init__(self, rest: RegionRest):
        self.rest = rest

    def _call(self, region: str, method: str, path: str, what: str, **kwargs):
        return self.rest.call(region, "image", method, path, what, **kwargs)

    def get(self, region: str, image_id: str) -> dict | None:
        answer = self._call(region, "GET", f"/images/{quote(image_id, safe='')}",
                            f"read image {image_id}", missing_ok=True)
        return None if answer is MISSING else answer

    def by_name(self, region: str, owner: str, name: str) -> list[dict]:
        """Images named ``name`` owned by ``owner``, whatever their visibility."""
        found: list[dict] = []
        params = {"name": name, "owner": owner, "visibility": "all"}
        path = "/images"
        while True:
            page = self._call(region, "GET", path, f"find image {name}", params=params)
            found += page.get("images", [])
            following = page.get("next")
            if not following or not page.get("images"):
                return found
            # ``next`` is a path with its query (/v2/images?marker=...), keep the marker.
            marker = following.split("marker=", 1)[-1].split("&", 1)[0]
            params = {**params, "marker": marker}

    def find(self, region: str, owner: str, name_or_id: str) -> list[dict]:
        """The image with this id owned by ``owner``, else its images with this name."""
        image = self.get(region, name_or_id)
        if image is not None and image.get("owner") == owner:
            return [image]
        return self.by_name(region, owner, name_or_id)

    def create(self, region: str, record: dict) -> dict:
        """Create an image record (no data yet): ``record`` is the body of the POST."""
        return self._call(region, "POST", "/images", f"create image {record.get('name')}",
                          body=record)

    def patch(self, region: str, image_id: str, operations: list[dict]) -> dict:
        return self.rest.call(region, "image", "PATCH", f"/images/{quote(image_id, safe='')}",
                              f"update image {image_id}", body=operations,
                              headers={"Content-Type": _PATCH_TYPE})

    def delete(self, region: str, image_id: str) -> None:
        """Delete the image; one already gone is not an error."""
        self._call(region, "DELETE", f"/images/{quote(image_id, safe='')}",
                   f"delete image {image_id}", missing_ok=True)

    def open_data(self, region: str, image_id: str, chunk_size: int) -> ImageData:
        """Start downloading the image's data (retried only until the first byte)."""

        def _open():
            response = self.rest.proxy(region, "image").request(
                f"/images/{quote(image_id, safe='')}/file", "GET", stream=True,
                raise_exc=False)
            # An error answer is small: raise_from_response reads it whole.
            sdk_exc.raise_from_response(response)
            return response

        response = calls.call(region, f"download image {image_id}", _open, self.rest.policy)
        return ImageData(region, response, chunk_size)

    def upload(self, region: str, image_id: str, chunks: Iterable[bytes], size: int) -> None:
        """Send the image's data, once: the chunks can be read only once, so a
        transient failure fails the attempt of the sync entry, whose next attempt
        starts again from a new download."""

        def _put():
            response = self.rest.proxy(region, "image").request(
                f"/images/{quote(image_id, safe='')}/file", "PUT",
                data=SizedBody(chunks, size), raise_exc=False, connect_retries=0,
                headers={"Content-Type": "application/octet-stream"})
            sdk_exc.raise_from_response(response)

        calls.call(region, f"upload image {image_id}", _put, calls.ONCE)
