"""Image bytes on disk: streamed in and out in chunks, never held whole in memory.

Files live under one directory per region: ``$REGIONSIM_DATA_DIR/<region>`` when
that variable is set, else a temporary directory of this process removed at exit.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

CHUNK = 1 << 20
QCOW2_MAGIC = b"QFI\xfb"


@dataclass
class Digests:
    """What Glance records about uploaded bytes, plus the sha256 Cinder starts from."""

    size: int
    md5: str
    sha512: str
    sha256: str
    virtual_size: int | None


def region_dir(region_name: str) -> str:
    """The directory of a region's image files, created on demand."""
    root = os.environ.get("REGIONSIM_DATA_DIR")
    if root:
        path = os.path.join(root, region_name)
    else:
        path = tempfile.mkdtemp(prefix=f"regionsim-glance-{region_name}-")
        atexit.register(shutil.rmtree, path, True)
    os.makedirs(path, exist_ok=True)
    return path


def write_stream(path: str, chunks: Iterable[bytes], disk_format: str | None) -> Digests:
    """Write ``chunks`` to ``path`` (via a ``.part`` file) and hash them on the way.

    The partial file is removed if reading the stream fails.
    """
    md5, sha512, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha512(), hashlib.sha256()
    size, head = 0, b""
    partial = path + ".part"
    try:
        with open(partial, "wb") as out:
            for chunk in chunks:
                if not chunk:
                    continue
                if len(head) < 32:
                    head += chunk[:32 - len(head)]
                md5.update(chunk)
                sha512.update(chunk)
                sha256.update(chunk)
                out.write(chunk)
                size += len(chunk)
        os.replace(partial, path)
    except BaseException:
        remove(partial)
        raise
    return Digests(size=size, md5=md5.hexdigest(), sha512=sha512.hexdigest(),
                   sha256=sha256.hexdigest(), virtual_size=_virtual_size(head, size, disk_format))


def _virtual_size(head: bytes, size: int, disk_format: str | None) -> int | None:
    """The guest-visible size, as Glance's format inspector reports it for common formats."""
    if disk_format == "qcow2" and len(head) >= 32 and head[:4] == QCOW2_MAGIC:
        return int.from_bytes(head[24:32], "big")
    if disk_format in ("raw", "iso"):
        return size
    return None


def read_chunks(stream, chunk_size: int = CHUNK) -> Iterator[bytes]:
    """Chunks of a file-like request body until it ends."""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk


def file_chunks(handle, start: int, length: int, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """``length`` bytes of an open file from ``start``, closing it at the end."""
    try:
        handle.seek(start)
        left = length
        while left > 0:
            chunk = handle.read(min(chunk_size, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


def remove(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
