"""A private PostgreSQL primary and streaming-replication standbys on this machine.

The star identity topology (``kingbird.demo.star``) keeps Keystone's database on
a primary at the master site and replicates it asynchronously to a read-only
standby in every other site. This module runs that for real, from the
machine's PostgreSQL server binaries (``initdb``, ``pg_basebackup``,
``postgres``), on free loopback ports and in directories of our own, next to
any PostgreSQL the machine runs itself.

PostgreSQL refuses to run as root: when we are root, every server command runs
as an unprivileged user (``$KINGBIRD_PG_USER``, else ``postgres``, which
Debian's ``postgresql`` package creates, else ``nobody``) that owns the data
directories. Servers run as our child processes (not daemonised by
``pg_ctl``), so stopping them is a signal to a pid we hold.

The instances are for tests and demos: ``fsync`` is off and authentication is
``trust`` on the loopback interface only.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

PG_USER_ENV = "KINGBIRD_PG_USER"
SUPERUSER = "postgres"

# Server settings of every instance. fsync off: a crashed test machine loses a
# scratch database, never data anyone needs; it makes bursts of writes fast.
_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "full_page_writes": "off",
    "wal_level": "replica",
    "max_wal_senders": "10",
    # A standby that was stopped, or a primary that was, must catch up from WAL
    # kept on the primary; 256 MB covers any demo or test.
    "wal_keep_size": "256MB",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "max_connections": "200",
    "shared_buffers": "32MB",
    # A standby retries a lost primary every second instead of every five.
    "wal_retrieve_retry_interval": "1s",
    "log_min_messages": "warning",
}


class PostgresError(RuntimeError):
    """A PostgreSQL instance could not be created, started or reached."""


def server_bin_dir() -> Path:
    """The newest PostgreSQL server binary directory on this machine.

    ``$KINGBIRD_PG_BIN`` wins; else ``/usr/lib/postgresql/<version>/bin``.

    :raises PostgresError: no ``initdb`` found.
    """
    if os.environ.get("KINGBIRD_PG_BIN"):
        candidates = [os.environ["KINGBIRD_PG_BIN"]]
    else:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                            key=lambda p: int(Path(p).parent.name)
                            if Path(p).parent.name.isdigit() else 0, reverse=True)
    for directory in candidates:
        if (Path(directory) / "initdb").is_file():
            return Path(directory)
    raise PostgresError("no PostgreSQL server binaries (initdb) found: install Debian's "
                        "postgresql package (scripts/system-deps.sh does) or set "
                        "KINGBIRD_PG_BIN")


@dataclass(frozen=True)
class RunAs:
    """The account PostgreSQL runs as: ourselves, or a user we switch to as root."""

    uid: int
    gid: int
    name: str

    @classmethod
    def choose(cls) -> RunAs:
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)
        for name in filter(None, (os.environ.get(PG_USER_ENV), "postgres", "nobody")):
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(name)
                if entry.pw_uid != 0:
                    return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)
        raise PostgresError("running as root and no unprivileged user to run PostgreSQL "
                            f"as: create one (e.g. postgres) or set {PG_USER_ENV}")

    @property
    def switches(self) -> bool:
        return self.uid != os.geteuid()

    def popen_kwargs(self) -> dict:
        if not self.switches:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path) -> None:
        if self.switches:
            os.chown(path, self.uid, self.gid)


def _traversable(path: Path, who: RunAs) -> bool:
    """Whether ``who`` can reach ``path`` (execute permission on every ancestor)."""
    for directory in [path, *path.parents]:
        try:
            info = directory.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == who.uid:
            ok = info.st_mode & stat.S_IXUSR
        elif info.st_gid == who.gid:
            ok = info.st_mode & stat.S_IXGRP
        else:
            ok = info.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True


def cluster_directory(wanted: Path, who: RunAs | None = None) -> Path:
    """Where the data directories go: ``wanted``, or a stable stand-in in /var/tmp.

    When ``wanted`` lies below a directory the PostgreSQL user cannot enter (a
    0700 home or pytest's temporary root), the data goes to
    ``/var/tmp/kingbird-pg-<hash of wanted>`` instead, and ``wanted`` becomes a
    symbolic link to it, so that a restarted demo finds its databases again.
    """
    who = who or RunAs.choose()
    wanted = Path(wanted).absolute()
    if wanted.is_symlink():
        return wanted.resolve()
    if _traversable(wanted.parent, who):
        wanted.mkdir(parents=True, exist_ok=True)
        who.own(wanted)
        return wanted
    digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:12]
    stand_in = Path(tempfile.gettempdir() if not Path("/var/tmp").is_dir() else "/var/tmp")
    stand_in = stand_in / f"kingbird-pg-{digest}"
    stand_in.mkdir(mode=0o700, exist_ok=True)
    who.own(stand_in)
    wanted.parent.mkdir(parents=True, exist_ok=True)
    if wanted.exists():
        shutil.rmtree(wanted)
    wanted.symlink_to(stand_in)
    return stand_in


def _orphan_watchdog(pid: int) -> subprocess.Popen:
    """A shell that stops server ``pid`` (as a crash would) once we are gone.

    A test run killed hard must not leave PostgreSQL servers holding ports and
    directories; the server runs in a session of its own, so nothing else
    would stop it.
    """
    script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
              f"kill -QUIT {pid} 2>/dev/null")
    return subprocess.Popen(["/bin/sh", "-c", script], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


class PgInstance:
    """One PostgreSQL server: a data directory, a port, a child process.

    :param data_dir: the data directory (created by :meth:`initdb` or
        :meth:`PgCluster.add_standby`).
    :param port: loopback port to listen on.
    :param who: the account to run as.
    :param name: label for logs and errors.
    """

    def __init__(self, data_dir: Path, port: int, who: RunAs, name: str):
        self.data_dir = Path(data_dir)
        self.port = port
        self.who = who
        self.name = name
        self.log_path = self.data_dir.parent / f"{name}.log"
        self._process: subprocess.Popen | None = None
        self._watchdog: subprocess.Popen | None = None

    def __repr__(self) -> str:
        return f"<PgInstance {self.name} 127.0.0.1:{self.port}>"

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg2") -> str:
        """SQLAlchemy URL of ``database`` on this server (user postgres, trust)."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def _run(self, args: list[str], what: str) -> None:
        with open(self.log_path, "ab") as log:
            done = subprocess.run(args, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, cwd=self.data_dir.parent,
                                  env=self._env(), check=False, **self.who.popen_kwargs())
        if done.returncode != 0:
            raise PostgresError(f"{what} failed for {self!r} (exit {done.returncode})\n"
                                f"{self.log_tail()}")

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8", HOME=str(self.data_dir.parent))
        return env

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no log)"
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(text)

    def initdb(self) -> None:
        """Create the data directory of a new primary (superuser ``postgres``, trust)."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.who.own(self.data_dir.parent)
        self._run([str(server_bin_dir() / "initdb"), "-D", str(self.data_dir),
                   "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync",
                   "--locale=C.UTF-8"], "initdb")

    def start(self, timeout: float = 60.0) -> PgInstance:
        """Start the server and wait until it accepts connections.

        :raises PostgresError: it exited or did not answer within ``timeout``.
        """
        if self.running:
            return self
        args = [str(server_bin_dir() / "postgres"), "-D", str(self.data_dir),
                "-p", str(self.port)]
        for key, value in _SETTINGS.items():
            args += ["-c", f"{key}={value}"]
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept by the child)
        try:
            self._process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.data_dir.parent, env=self._env(), start_new_session=True,
                **self.who.popen_kwargs())
        finally:
            log.close()
        self._watchdog = _orphan_watchdog(self._process.pid)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise PostgresError(f"{self!r} exited with code {self._process.returncode}"
                                    f" while starting\n{self.log_tail()}")
            try:
                psycopg2.connect(self.dsn(), connect_timeout=2).close()
                return self
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    self.stop(immediate=True)
                    raise PostgresError(f"{self!r} did not accept connections within "
                                        f"{timeout:.0f} s\n{self.log_tail()}") from None
                time.sleep(0.05)

    def stop(self, immediate: bool = False, timeout: float = 30.0) -> None:
        """Stop the server: fast shutdown (SIGINT), or ``immediate`` (SIGQUIT, a crash).

        An immediate stop leaves the data directory as a power cut would; the next
        start recovers it from WAL.
        """
        process, self._process = self._process, None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None and watchdog.poll() is None:
            watchdog.kill()
            watchdog.wait()
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGQUIT if immediate else signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def connect(self, database: str = "postgres", timeout: int = 5):
        """A psycopg2 connection in autocommit mode."""
        connection = psycopg2.connect(self.dsn(database), connect_timeout=timeout)
        connection.autocommit = True
        return connection


class PgCluster:
    """A primary and its streaming standbys below one directory.

    :param base_dir: the cluster's directory (see :func:`cluster_directory`).
    :param primary_port: port of the primary.
    """

    def __init__(self, base_dir: Path, primary_port: int, who: RunAs | None = None):
        self.who = who or RunAs.choose()
        self.base_dir = cluster_directory(Path(base_dir), self.who)
        self.primary = PgInstance(self.base_dir / "primary", primary_port, self.who, "primary")
        self.standbys: dict[str, PgInstance] = {}

    def start_primary(self) -> PgInstance:
        """Create the primary on first use, then start it."""
        if not self.primary.initialised:
            self.primary.initdb()
        return self.primary.start()

    def create_database(self, name: str) -> str:
        """Create ``name`` on the primary unless it exists; returns its SQLAlchemy URL."""
        with contextlib.closing(self.primary.connect()) as connection:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        return self.primary.url(name)

    def add_standby(self, name: str, port: int) -> PgInstance:
        """A streaming standby called ``name`` (its ``application_name`` on the
        primary), cloned with ``pg_basebackup`` on first use, then started."""
        standby = PgInstance(self.base_dir / f"standby-{name}", port, self.who,
                             f"standby-{name}")
        self.standbys[name] = standby
        if not standby.initialised:
            if standby.data_dir.exists():
                shutil.rmtree(standby.data_dir)  # a clone interrupted earlier
            standby._run([str(server_bin_dir() / "pg_basebackup"), "-h", "127.0.0.1",
                          "-p", str(self.primary.port), "-U", SUPERUSER,
                          "-D", str(standby.data_dir), "-X", "stream", "-c", "fast",
                          "--no-sync"], "pg_basebackup")
            conninfo = (f"host=127.0.0.1 port={self.primary.port} user={SUPERUSER} "
                        f"application_name={name}")
            with open(standby.data_dir / "postgresql.auto.conf", "a") as conf:
                conf.write(f"primary_conninfo = '{conninfo}'\n")
            (standby.data_dir / "standby.signal").touch()
            for path in (standby.data_dir / "postgresql.auto.conf",
                         standby.data_dir / "standby.signal"):
                self.who.own(path)
        # The primary's port is recorded at clone time; a new primary port means
        # a new conninfo.
        self._point_at_primary(standby, name)
        return standby.start()

    def _point_at_primary(self, standby: PgInstance, name: str) -> None:
        path = standby.data_dir / "postgresql.auto.conf"
        lines = [line for line in path.read_text().splitlines()
                 if not line.startswith("primary_conninfo")]
        lines.append(f"primary_conninfo = 'host=127.0.0.1 port={self.primary.port} "
                     f"user={SUPERUSER} application_name={name}'")
        path.write_text("\n".join(lines) + "\n")
        self.who.own(path)

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Wait until every running standby has replayed the primary's current WAL.

        :raises PostgresError: a standby is behind after ``timeout`` seconds.
        """
        with contextlib.closing(self.primary.connect()) as connection:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()")
                target = cursor.fetchone()[0]
        deadline = time.monotonic() + timeout
        for name, standby in self.standbys.items():
            if not standby.running:
                continue
            while True:
                with contextlib.closing(standby.connect()) as connection:
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s)",
                                       (target,))
                        behind = cursor.fetchone()[0]
                if behind is not None and behind >= 0:
                    break
                if time.monotonic() > deadline:
                    raise PostgresError(f"standby {name} has not replayed {target} within "
                                        f"{timeout:.0f} s\n{standby.log_tail()}")
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop the standbys, then the primary."""
        for standby in self.standbys.values():
            standby.stop()
        self.primary.stop()
