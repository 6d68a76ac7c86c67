"""Launch a real Keystone (the ``keystone`` package, SQLite, Fernet tokens).

Nothing in Kingbird fakes tokens: the functional tests and the demo authenticate
against a real Keystone served from a child process (``keystone_server``), its
state prepared by ``keystone_setup`` (a template database copied in ~50 ms
instead of a 5 s ``db_sync`` + ``bootstrap``) and its catalog filled by
``keystone_provision``.

Everything a node writes (configuration, database, key repositories, logs) stays
below its ``state_dir``; starting again on the same ``state_dir`` reuses the
database and the keys, so a restarted demo keeps its users, projects and even
its tokens.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.demo.keystone_provision import Provisioner
from kingbird.demo.keystone_server import CONFIG_FILE_NAME
from kingbird.demo.keystone_setup import (
    ADMIN_PROJECT,
    ADMIN_USER,
    DEFAULT_ADMIN_PASSWORD,
    DEFAULT_DOMAIN,
    KeystoneLaunchError,
    bootstrap_database,
    child_env,
    copy_file,
    default_cache_dir,
    ensure_key_repository,
    ensure_template,
    log_tail,
    render_config,
    sqlite_path,
)

__all__ = ["KeystoneLaunchError", "KeystoneNode", "Provisioner", "default_cache_dir",
           "ensure_template"]


class KeystoneNode:
    """One Keystone server process with its state directory.

    :param state_dir: everything the node writes goes below it.
    :param host: address to listen on.
    :param port: port to listen on; None picks a free one on first start and
        keeps it for later starts of the same object.
    :param admin_password: password of the bootstrap ``admin`` user.
    :param database_url: SQLAlchemy URL; None means ``state_dir/keystone.db``.
        A SQLite database is created by copying the template; any other
        database (e.g. PostgreSQL shared by several nodes) is migrated and
        bootstrapped once per state_dir (both steps are idempotent).
    :param fernet_key_repository: token keys; None means ``state_dir/fernet-keys``.
        Nodes validating each other's tokens must share (or copy) it.
    :param credential_key_repository: keys of the credentials API; None means
        ``state_dir/credential-keys``. Nodes sharing a database must share it.
    :param token_expiration: token lifetime in seconds.
    :param region: region in which the node registers its identity endpoint.
    :param threads: server threads; None means 1 on SQLite (single writer), 8
        otherwise.
    :param cache: Keystone's in-memory cache (faster; per process).
    :param cache_dir: template cache; None means :func:`default_cache_dir`.
    :param start_timeout: seconds ``start`` waits for ``GET /v3`` to answer.
    :param read_only_master: the database is a read-only replica (a streaming
        standby) of the one the Keystone at this identity URL writes: the node
        neither bootstraps the database nor registers its endpoint (both
        write), and it refuses API writes with a 403 naming this URL.
    :param config_overrides: keystone.conf options set last (section -> option
        -> value), e.g. ``{"token": {"caching": "false"}}``.
    """

    def __init__(self, state_dir: Path, host: str = "127.0.0.1", port: int | None = None,
                 admin_password: str = DEFAULT_ADMIN_PASSWORD,
                 database_url: str | None = None,
                 fernet_key_repository: Path | None = None, token_expiration: int = 3600,
                 region: str = "RegionOne", *, credential_key_repository: Path | None = None,
                 threads: int | None = None, cache: bool = True,
                 cache_dir: Path | None = None, start_timeout: float = 60.0,
                 read_only_master: str | None = None,
                 config_overrides: dict[str, dict[str, object]] | None = None):
        self.state_dir = Path(state_dir).resolve()
        self.host = host
        self.port = port
        self.admin_password = admin_password
        self.database_url = database_url or f"sqlite:///{self.state_dir / 'keystone.db'}"
        self._sqlite_file = sqlite_path(self.database_url)
        self.fernet_key_repository = Path(
            fernet_key_repository or self.state_dir / "fernet-keys").resolve()
        self.receipt_key_repository = self.state_dir / "receipt-keys"
        self.credential_key_repository = Path(
            credential_key_repository or self.state_dir / "credential-keys").resolve()
        self.token_expiration = token_expiration
        self.region = region
        self.threads = threads or (1 if self._sqlite_file else 8)
        self.cache = cache
        self.cache_dir = Path(cache_dir).resolve() if cache_dir else default_cache_dir()
        self.start_timeout = start_timeout
        self.read_only_master = read_only_master
        self.config_overrides = config_overrides
        self.config_path = self.state_dir / CONFIG_FILE_NAME
        self.log_path = self.state_dir / "keystone.log"
        self.server_log_path = self.state_dir / "keystone-server.log"
        self._process: subprocess.Popen | None = None

    def __repr__(self) -> str:
        return f"<KeystoneNode {self.state_dir} {self.host}:{self.port} {self.region}>"

    # -- addresses and credentials -------------------------------------------------

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:35357``; known once started."""
        if self.port is None:
            raise KeystoneLaunchError(f"{self!r} has no port yet: start it first")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def auth_url(self) -> str:
        """Identity v3 URL, the ``auth_url`` of clients and the catalog endpoint."""
        return f"{self.url}/v3"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def admin_credentials(self) -> dict[str, str]:
        """Password credentials of the bootstrap admin, scoped to project ``admin``.

        Usable as ``keystoneauth1.identity.v3.Password(**creds)`` and as
        ``openstack.connection.Connection(**creds)``.
        """
        return {
            "auth_url": self.auth_url,
            "username": ADMIN_USER,
            "password": self.admin_password,
            "project_name": ADMIN_PROJECT,
            "user_domain_name": DEFAULT_DOMAIN,
            "project_domain_name": DEFAULT_DOMAIN,
        }

    def admin_session(self) -> ks_session.Session:
        """A keystoneauth1 session authenticated as the bootstrap admin."""
        return ks_session.Session(auth=v3.Password(**self.admin_credentials()))

    def provisioner(self) -> Provisioner:
        """Idempotent identity provisioning on this node, as admin."""
        return Provisioner(self.admin_session(), self.auth_url)

    # -- lifecycle ---------------------------------------------------------------------

    def prepare(self) -> None:
        """Create what a start needs, keeping whatever a previous start left.

        Key repositories get keys only when empty; the SQLite database is
        copied from the template only when missing; another database is
        bootstrapped only when this state_dir has not bootstrapped it yet.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for repo in (self.fernet_key_repository, self.receipt_key_repository,
                     self.credential_key_repository):
            ensure_key_repository(repo)
        if self._sqlite_file is not None:
            if not self._sqlite_file.exists():
                copy_file(ensure_template(self.admin_password, self.cache_dir),
                          self._sqlite_file)
        elif not self.read_only_master:
            marker = self.state_dir / "bootstrapped"
            fingerprint = hashlib.sha256(self.database_url.encode()).hexdigest()
            if not marker.is_file() or marker.read_text().strip() != fingerprint:
                bootstrap_database(self.state_dir, self.database_url, self.admin_password,
                                   self.cache_dir)
                marker.write_text(fingerprint + "\n")
        self.config_path.write_text(render_config(
            database_url=self.database_url, fernet_keys=self.fernet_key_repository,
            receipt_keys=self.receipt_key_repository,
            credential_keys=self.credential_key_repository, log_file=self.log_path,
            token_expiration=self.token_expiration, cache=self.cache,
            overrides=self.config_overrides))
        os.chmod(self.config_path, 0o600)  # may hold a database password

    def start(self) -> KeystoneNode:
        """Prepare, launch the server, wait for ``GET /v3``, register the endpoint.

        The identity endpoint (``auth_url``, interfaces public, internal and
        admin) is created or corrected in ``region`` on every start, since a
        copied template or a new port leaves the catalog pointing elsewhere.
        Does nothing if already running.

        :returns: self, for ``with KeystoneNode(d).start() as node``.
        :raises KeystoneLaunchError: the server exited or did not answer in time.
        """
        if self.running:
            return self
        self.prepare()
        port_file = self.state_dir / "keystone.port"
        port_file.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "kingbird.demo.keystone_server",
               "--config-dir", str(self.state_dir), "--config-file", CONFIG_FILE_NAME,
               "--host", self.host, "--port", str(self.port or 0),
               "--port-file", str(port_file), "--threads", str(self.threads)]
        if self.read_only_master:
            cmd += ["--read-only-master", self.read_only_master, "--site", self.region]
        with open(self.server_log_path, "ab") as log:
            self._process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.state_dir,
                                             env=child_env(self.cache_dir))
        try:
            self._wait_until_answering(port_file)
            if not self.read_only_master:
                self._register_endpoint()
        except Exception as exc:
            self.stop()
            if isinstance(exc, KeystoneLaunchError):
                raise
            hint = (" (was state_dir prepared with another admin_password?)"
                    if isinstance(exc, ks_exc.Unauthorized) else "")
            raise KeystoneLaunchError(f"{self!r} started but registering its endpoint "
                                      f"failed: {exc}{hint}\n{self._log_tail()}") from exc
        except BaseException:  # Ctrl-C while waiting: no orphan server
            self.stop()
            raise
        return self

    def _register_endpoint(self) -> None:
        session = self.admin_session()
        try:
            Provisioner(session, self.auth_url).ensure_endpoint(
                "identity", self.region, self.auth_url, service_name="keystone")
        finally:
            session.session.close()  # no idle keep-alive connection left to the server

    def _log_tail(self) -> str:
        return log_tail([self.server_log_path, self.log_path])

    def _wait_until_answering(self, port_file: Path) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise KeystoneLaunchError(
                    f"{self!r} exited with code {self._process.returncode} while "
                    f"starting\n{self._log_tail()}")
            if port_file.is_file():
                self.port = int(port_file.read_text())
                try:
                    with urllib.request.urlopen(self.auth_url, timeout=2) as answer:
                        if answer.status == 200:
                            return
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.05)
        raise KeystoneLaunchError(f"{self!r} did not answer GET /v3 within "
                                  f"{self.start_timeout:.0f} s\n{self._log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server, SIGKILL it if still alive after ``timeout`` seconds."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> KeystoneNode:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
