"""One more ``kingbird-api`` next to a running demo, on a database of its own.

It is ``kingbird-api`` as an operator runs it, with the demo's configuration
(same Keystone, same regions) and a second file naming its own database and port,
with Fernet key management on. The hostile-input tests and ``make sweep`` talk to
it exactly as to the demo's API, so the same requests meet SQLite, PostgreSQL or
MySQL. No engine runs beside it: what it accepts stays queued.

``scratch_database`` makes the throwaway database on a server (a random name,
dropped afterwards).
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

from kingbird.db import migration
from kingbird.demo import processes
from kingbird.demo.regionsim_launcher import free_port

STARTUP_TIMEOUT = 60


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url`` (a SQLAlchemy URL of a
    PostgreSQL or MySQL server, e.g. ``postgresql+psycopg2://postgres@127.0.0.1:5432/
    postgres``); its URL while the block runs, then dropped.

    :raises sqlalchemy.exc.OperationalError: the server cannot be reached.
    """
    url = sa.make_url(server_url)
    name = f"kingbird_scratch_{secrets.token_hex(6)}"
    postgresql = url.get_backend_name() == "postgresql"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool,
                             connect_args={"connect_timeout": 5})
    quoted = f'"{name}"' if postgresql else f"`{name}`"
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quoted}" +
                             ("" if postgresql else " CHARACTER SET utf8mb4")))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}" +
                                 (" WITH (FORCE)" if postgresql else "")))
        admin.dispose()


@contextlib.contextmanager
def kingbird_api(demo_conf: str, database_url: str, workdir: Path) -> Iterator[str]:
    """``kingbird-api`` serving the demo's configuration ``demo_conf`` on
    ``database_url`` (migrated first); its root URL while the block runs."""
    migration.upgrade(database_url)
    port = free_port()
    overlay = workdir / f"extra-api-{port}.conf"
    overlay.write_text(f"[database]\nconnection = {database_url}\n\n"
                       f"[api]\nbind_port = {port}\n\n"
                       f"[fernet]\nmaster_key = {Fernet.generate_key().decode()}\n")
    overlay.chmod(0o600)
    log = open(workdir / f"extra-api-{port}.log", "ab")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "kingbird.cmd.api", "--config-file",
                             demo_conf, "--config-file", str(overlay)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    root = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(proc, root, log.name)
        yield root
    finally:
        processes.stop(proc, timeout=15)
        log.close()


def _wait_until_healthy(proc: subprocess.Popen, root: str, log: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kingbird-api exited with {proc.returncode}; see {log}")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(root + "/healthcheck", timeout=5).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"kingbird-api did not answer within {STARTUP_TIMEOUT} s; see {log}")
