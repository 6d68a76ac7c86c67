"""Keystone state on disk: configuration, key repositories, the template database.

Starting a Keystone from scratch costs ``db_sync`` (~3 s) plus ``bootstrap``, so a
migrated and bootstrapped SQLite database is built once per machine into a
template cache and copied for each new node. The cache directory is, in order:
``$KINGBIRD_CACHE_DIR``; ``<source checkout>/.cache/kingbird`` when running from a
checkout (``.cache/`` is git-ignored); ``./.cache/kingbird`` otherwise. Templates
are keyed by Keystone version, admin password and hash rounds, so a stale one is
never reused; deleting the directory is always safe.

Used by :class:`kingbird.demo.keystone.KeystoneNode`; nothing here starts a server.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from kingbird.identity.repository import is_key_file_name

CACHE_DIR_ENV = "KINGBIRD_CACHE_DIR"
DEFAULT_ADMIN_PASSWORD = "admin-secret"
ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
DEFAULT_DOMAIN = "Default"
# bcrypt's minimum. Set before bootstrap: the admin hash in the template carries it.
PASSWORD_HASH_ROUNDS = 4
# Bump when the way templates are built changes, so old ones are not reused.
_TEMPLATE_RECIPE = 1
_TEMPLATE_DB = "keystone.db"
_MANAGE = "from keystone.cmd.manage import main; main()"
_SOURCE_ROOT = Path(__file__).resolve().parents[3]


class KeystoneLaunchError(RuntimeError):
    """Keystone could not be prepared or did not come up; the message has its log tail."""


def keystone_version() -> str:
    """Version of the installed ``keystone`` package (part of the template key)."""
    return importlib.metadata.version("keystone")


def default_cache_dir() -> Path:
    """Where templates are kept; see the module docstring for the order of choices."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).resolve()
    if (_SOURCE_ROOT / "pyproject.toml").is_file() and (_SOURCE_ROOT / "src").is_dir():
        return _SOURCE_ROOT / ".cache" / "kingbird"
    return Path.cwd() / ".cache" / "kingbird"


def _ini_value(value: object) -> str:
    # oslo.config interpolates "$name"; a database password may contain "$".
    return str(value).replace("$", "$$")


def render_config(*, database_url: str, fernet_keys: Path, receipt_keys: Path,
                  credential_keys: Path, log_file: Path, token_expiration: int = 3600,
                  cache: bool = True,
                  overrides: dict[str, dict[str, object]] | None = None) -> str:
    """The text of a keystone.conf whose every path is one of the arguments.

    All three key repositories are set explicitly: a missing
    ``[fernet_receipts]`` makes Keystone fall back to ``/etc/keystone/``.
    ``overrides`` (section -> option -> value) are applied last.
    """
    sections: dict[str, dict[str, object]] = {
        "DEFAULT": {"log_file": log_file, "use_stderr": "false", "debug": "false"},
        "database": {"connection": database_url},
        "token": {"provider": "fernet", "expiration": token_expiration},
        "fernet_tokens": {"key_repository": fernet_keys},
        "fernet_receipts": {"key_repository": receipt_keys},
        "credential": {"key_repository": credential_keys},
        # max_password_length: bcrypt's own limit; above it Keystone logs a
        # "Truncating password" warning on every single password check.
        "identity": {"password_hash_rounds": PASSWORD_HASH_ROUNDS,
                     "max_password_length": 72},
        # The in-memory cache is per process: fine for one node per database;
        # nodes sharing a database may see each other's changes late.
        "cache": {"enabled": str(cache).lower(), "backend": "dogpile.cache.memory"},
    }
    if sqlite_path(database_url) is not None:
        # Losing the last commits only matters on an OS crash, not a killed process.
        sections["database"]["sqlite_synchronous"] = "false"
    for name, options in (overrides or {}).items():
        sections.setdefault(name, {}).update(options)
    lines = []
    for name, options in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_ini_value(value)}" for key, value in options.items())
        lines.append("")
    return "\n".join(lines)


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL, None for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be shared with the "
                         "Keystone child process; give a file")
    return Path(url.database).resolve()


def ensure_key_repository(path: Path) -> Path:
    """Create a Fernet key repository in Keystone's layout unless it holds keys.

    Same result as ``keystone-manage fernet_setup`` (key ``0`` staged, ``1``
    primary, files 0600 in a 0700 directory) without its 2 s subprocess. An
    existing repository is left alone: nodes may share one, and tokens must
    survive a restart.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # Keystone warns about a world-readable repository
    if any(is_key_file_name(p.name) for p in path.iterdir()):
        return path
    for name in ("0", "1"):
        tmp = path / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key())
        os.replace(tmp, path / name)
    return path


def log_tail(paths: list[Path], lines: int = 40) -> str:
    parts = []
    for path in paths:
        with contextlib.suppress(OSError):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- last lines of {path} ---\n" + "\n".join(text))
    return "\n".join(parts) or "(no log written)"


def child_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of Keystone processes: write nothing outside our directories.

    stevedore (which Keystone loads its drivers with) caches entry points under
    ``$XDG_CACHE_HOME``, by default ``~/.cache``; point it at our cache instead.
    The child must also import this very kingbird, installed or not.
    """
    env = {**os.environ, **extra, "XDG_CACHE_HOME": str(cache_dir)}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")]))
    return env


def _run_manage(config: Path, args: list[str], log: Path, env: dict[str, str]) -> None:
    """Run ``keystone-manage`` with our config, in the interpreter running us.

    keystone-manage reads ``--config-file`` only (not OS_KEYSTONE_CONFIG_*).
    """
    cmd = [sys.executable, "-c", _MANAGE, "--config-file", str(config), *args]
    with open(log, "ab") as out:
        done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=config.parent,
                              env=env, check=False)
    if done.returncode != 0:
        raise KeystoneLaunchError(f"keystone-manage {args[0]} failed "
                                  f"(exit {done.returncode})\n{log_tail([log])}")


def bootstrap_database(directory: Path, database_url: str, admin_password: str,
                       cache_dir: Path) -> None:
    """Run db_sync and bootstrap on ``database_url``; both are idempotent.

    The configuration and the key repositories keystone-manage insists on
    (bootstrap refuses to run without them, though it encrypts nothing) are
    throw-away files in a scratch directory below ``directory``; its output
    goes to ``directory/keystone-manage.log``. No catalog is bootstrapped:
    a node registers its identity endpoint once it knows its URL.
    """
    log = directory / "keystone-manage.log"
    scratch = Path(tempfile.mkdtemp(prefix=".manage-", dir=directory))
    try:
        config = scratch / "keystone.conf"
        repos = [ensure_key_repository(scratch / name) for name in ("f", "r", "c")]
        config.write_text(render_config(
            database_url=database_url, fernet_keys=repos[0], receipt_keys=repos[1],
            credential_keys=repos[2], log_file=log, cache=False))
        _run_manage(config, ["db_sync"], log, child_env(cache_dir))
        # The password goes through the environment: argv is visible to `ps`.
        _run_manage(config, ["bootstrap", "--bootstrap-username", ADMIN_USER,
                             "--bootstrap-project-name", ADMIN_PROJECT,
                             "--bootstrap-role-name", "admin"],
                    log, child_env(cache_dir, OS_BOOTSTRAP_PASSWORD=admin_password))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_template(admin_password: str = DEFAULT_ADMIN_PASSWORD,
                    cache_dir: Path | None = None) -> Path:
    """Path of a migrated, bootstrapped SQLite database to copy; built on first use.

    A file lock makes concurrent processes (pytest-xdist, two demos) wait for
    one build instead of racing; the build happens in a scratch directory
    renamed into place, so a crashed build leaves nothing that looks complete.
    """
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    key = f"{_TEMPLATE_RECIPE}|{keystone_version()}|{admin_password}|{PASSWORD_HASH_ROUNDS}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    final = cache_dir / f"keystone-{keystone_version()}-{digest}"
    if (final / _TEMPLATE_DB).is_file():
        return final / _TEMPLATE_DB
    with _file_lock(cache_dir / "keystone-template.lock"):
        if (final / _TEMPLATE_DB).is_file():  # built while we waited
            return final / _TEMPLATE_DB
        scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
        try:
            bootstrap_database(scratch, f"sqlite:///{scratch / _TEMPLATE_DB}",
                               admin_password, cache_dir)
            shutil.rmtree(final, ignore_errors=True)
            os.rename(scratch, final)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    return final / _TEMPLATE_DB


def copy_file(source: Path, target: Path) -> None:
    """Copy through a temporary name, so an interrupted copy is never taken for a database."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
