"""The demo's one door to regionsim: its topology helpers and its process.

regionsim is a test and demo tool, not part of Kingbird; so that nothing else of
Kingbird comes to depend on it, this is the only module that imports it (an
import-linter contract in ``pyproject.toml`` checks that). The rest of the demo
names regions, picks ports and starts the simulator through here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from regionsim.topology import free_port, region_names

READY_FILE = "regionsim.json"
LOG_FILE = "regionsim.log"

__all__ = ["LOG_FILE", "free_port", "launch", "region_names"]


def launch(state_dir: Path, *, keystone_url: str, username: str, project: str,
           password: str, control_port: int, regions: Sequence[str],
           timeout: float = 60.0) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start regionsim as a child process and wait until it serves.

    :param state_dir: where its ready file and log (``regionsim.log``) go.
    :param keystone_url: the Keystone that validates tokens, unless a region names its own.
    :param username: the service user regionsim validates tokens as.
    :param project: that user's project.
    :param password: that user's password (passed in the environment, not the command line).
    :param control_port: the port of regionsim's control API.
    :param regions: one ``NAME=PORT[@KEYSTONE_URL]`` per region.
    :param timeout: seconds to wait for the ready file.
    :returns: the process and the endpoints it serves (``regions``, ``control_url``).
    :raises RuntimeError: it exited, or did not start within ``timeout``.
    """
    ready = state_dir / READY_FILE
    ready.unlink(missing_ok=True)
    args = [sys.executable, "-m", "regionsim.cmd", "--keystone-url", keystone_url,
            "--auth-username", username, "--auth-project", project,
            "--control-port", str(control_port), "--ready-file", str(ready)]
    for region in regions:
        args += ["--region", region]
    env = dict(os.environ, REGIONSIM_AUTH_PASSWORD=password)
    log = open(state_dir / LOG_FILE, "ab")  # noqa: SIM115 (kept by the child)
    process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"regionsim did not start; see {state_dir / LOG_FILE}")
        time.sleep(0.05)
    return process, json.loads(ready.read_text())
