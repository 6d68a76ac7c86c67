"""What a volume's bytes look like block by block, for incremental backups.

A content is known everywhere by its sha256 digest (volumes, snapshots and
backups of every region carry ``content_digest``). When the simulator is given
bytes (``PUT /volume/_sim/volumes/{id}/content``) it also keeps the digest of
each block of ``BLOCK_SIZE`` bytes, once per process, as a deduplicating backup
store would: Cinder's chunked backup drivers compare such SHA blocks
(``backup_sha_block_size_bytes``, 32 KiB) to write only the changed ones in an
incremental backup. Contents the simulator never saw as bytes (images, empty
volumes) get stand-in block digests derived from their digest, so two different
contents still differ in every block.
"""

from __future__ import annotations

import hashlib
import threading

BLOCK_SIZE = 32 * 1024

_blocks: dict[str, tuple[str, ...]] = {}
_lock = threading.Lock()


def remember(data: bytes) -> str:
    """Keep the block digests of ``data``; returns its content digest."""
    digest = hashlib.sha256(data).hexdigest()
    blocks = tuple(hashlib.sha256(data[i:i + BLOCK_SIZE]).hexdigest()
                   for i in range(0, len(data), BLOCK_SIZE))
    with _lock:
        _blocks[digest] = blocks
    return digest


def blocks(digest: str, size: int) -> tuple[str, ...]:
    """The block digests of a content (stand-ins when its bytes were never seen)."""
    with _lock:
        known = _blocks.get(digest)
    if known is not None:
        return known
    count = -(-size // BLOCK_SIZE)
    return tuple(hashlib.sha256(f"{digest}:{i}".encode()).hexdigest() for i in range(count))


def _block_bytes(size: int, index: int) -> int:
    return min(BLOCK_SIZE, size - index * BLOCK_SIZE)


def changed_bytes(new: tuple[str, int], old: tuple[str, int] | None) -> int:
    """Bytes an incremental backup of content ``new`` writes after one of ``old``
    (``(digest, size)`` pairs; ``old`` None: a full backup writes everything)."""
    digest, size = new
    if old is None:
        return size
    mine, theirs = blocks(digest, size), blocks(*old)
    return sum(_block_bytes(size, i) for i, block in enumerate(mine)
               if i >= len(theirs) or theirs[i] != block)
