"""A second Kingbird API next to the session's demo stack, on another database.

It is ``kingbird-api`` as an operator runs it, with the demo's configuration
(same Keystone, same regions) and a second file that names its own database and
port and turns Fernet key management on: the tests that must hold on every
database (hostile input, the sweep) talk to it exactly as to the demo's API.
No engine runs beside it: what it accepts stays queued.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from kingbird.db import migration
from regionsim.topology import free_port

STARTUP_TIMEOUT = 60


@contextlib.contextmanager
def kingbird_api(demo_conf: str, database_url: str, workdir: Path) -> Iterator[str]:
    """``kingbird-api`` serving the demo's configuration on ``database_url``
    (migrated first); its root URL while the block runs."""
    migration.upgrade(database_url)
    port = free_port()
    overlay = workdir / "second-api.conf"
    overlay.write_text(f"[database]\nconnection = {database_url}\n\n"
                       f"[api]\nbind_port = {port}\n\n"
                       f"[fernet]\nmaster_key = {Fernet.generate_key().decode()}\n")
    log = open(workdir / "second-api.log", "ab")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "kingbird.cmd.api", "--config-file",
                             demo_conf, "--config-file", str(overlay)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    root = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(proc, root, log.name)
        yield root
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
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
