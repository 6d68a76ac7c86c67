"""A Keystone node's Fernet key repository on disk, written the safe way.

Keystone reads the repository on every token it issues or validates: it lists
the directory, then opens each file whose name is a number. So a change must
never show a half-written key, nor a moment without a key that live tokens
need:

- each key file is written to a temporary name in the same directory (Keystone
  ignores names that are not numbers), flushed, given mode 0600 and the
  configured owner, then renamed over its final name (atomic on POSIX);
- files are added and replaced first, and only then are keys that left the set
  removed, so that every key of the old and the new set is present throughout;
- the version the repository holds is recorded last, in ``.kingbird-keyset``,
  with a digest of the contents: an agent that restarts knows what it holds,
  and a repository changed behind its back (a manual ``fernet_rotate``) is
  noticed and rewritten.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import json
import os
import pwd
import re
from pathlib import Path

STATE_FILE = ".kingbird-keyset"
# ASCII digits only: str.isdigit() also takes "²" or "١", which int() refuses or reads
# as another number.
_NUMBER = re.compile(r"[0-9]+")


def is_key_file_name(name: object) -> bool:
    """Whether ``name`` names a key file: ASCII digits, nothing else."""
    return isinstance(name, str) and _NUMBER.fullmatch(name) is not None


class RepositoryError(RuntimeError):
    """The repository cannot be read or written (permissions, owner, disk)."""


def parse_owner(text: str | None) -> tuple[int, int] | None:
    """``USER[:GROUP]`` (names or numbers) -> (uid, gid); None keeps our own.

    :raises RepositoryError: unknown user or group.
    """
    if not text:
        return None
    user, _, group = text.partition(":")
    try:
        entry = pwd.getpwuid(int(user)) if _NUMBER.fullmatch(user) else pwd.getpwnam(user)
    except KeyError:
        raise RepositoryError(f"no user {user!r}") from None
    gid = entry.pw_gid
    if group:
        try:
            gid = int(group) if _NUMBER.fullmatch(group) else grp.getgrnam(group).gr_gid
        except KeyError:
            raise RepositoryError(f"no group {group!r}") from None
    return entry.pw_uid, gid


def read_repository(path: Path) -> dict[str, str]:
    """File name -> key of every numbered file in the repository (empty if none)."""
    path = Path(path)
    if not path.is_dir():
        return {}
    keys = {}
    for entry in path.iterdir():
        if is_key_file_name(entry.name) and entry.is_file():
            keys[entry.name] = entry.read_text().strip()
    return keys


def digest(files: dict[str, str]) -> str:
    """A fingerprint of repository contents (names and keys)."""
    text = json.dumps(sorted((name, key.strip()) for name, key in files.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def held_version(path: Path) -> int | None:
    """The key set version the repository holds, None when unknown.

    Unknown: never written by an agent, or its contents no longer match what
    was written (then the agent fetches the whole set again).
    """
    try:
        state = json.loads((Path(path) / STATE_FILE).read_text())
        version, recorded = int(state["version"]), state["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return version if recorded == digest(read_repository(path)) else None


def _write_file(directory: Path, name: str, text: str, owner: tuple[int, int] | None) -> None:
    tmp = directory / f".{name}.kingbird-tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, text.encode())
        os.fchmod(fd, 0o600)
        if owner is not None:
            os.fchown(fd, *owner)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, directory / name)


def write_repository(path: Path, files: dict[str, str], version: int,
                     owner: tuple[int, int] | None = None) -> dict[str, int]:
    """Make the repository hold exactly ``files``, as version ``version``.

    :param files: file name (digits) -> key material.
    :param owner: (uid, gid) of every file and the directory; None: ours.
    :returns: counts of files ``written``, ``removed`` and ``unchanged``.
    :raises RepositoryError: a file name is not a number, or the disk refused.
    """
    path = Path(path)
    if not files or not all(is_key_file_name(name) for name in files):
        raise RepositoryError(f"not a key repository: {sorted(files)}")
    counts = {"written": 0, "removed": 0, "unchanged": 0}
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        if owner is not None:
            os.chown(path, *owner)
        existing = read_repository(path)
        # Highest number last: the new primary appears once everything else is there.
        for name in sorted(files, key=int):
            material = files[name].strip()
            if existing.get(name) == material:
                counts["unchanged"] += 1
                if owner is not None:
                    os.chown(path / name, *owner)
                continue
            _write_file(path, name, material, owner)
            counts["written"] += 1
        for name in sorted(set(existing) - set(files), key=int):
            (path / name).unlink()
            counts["removed"] += 1
        _write_file(path, STATE_FILE, json.dumps({"version": version,
                                                  "digest": digest(files)}), owner)
        directory = os.open(path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        raise RepositoryError(f"cannot write the key repository {path}: {exc}") from exc
    return counts
