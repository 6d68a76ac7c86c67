"""The demo cloud as functional tests reach it: starting and stopping
``kingbird-demo``, its credentials and connections.

A module of its own rather than ``conftest``: tests import these names, and with
``tests/unit/conftest.py`` beside it, ``from conftest import ...`` would find
whichever conftest was loaded first.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import openstack.connection
import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.demo.keystone_provision import Provisioner
from regionsim.topology import free_port

STARTUP_TIMEOUT = 180


def _read_openrc(path: str) -> dict[str, str]:
    env = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


@dataclass
class Credentials:
    auth_url: str
    username: str
    password: str
    project_name: str

    def session(self) -> ks_session.Session:
        return ks_session.Session(auth=v3.Password(
            auth_url=self.auth_url, username=self.username, password=self.password,
            project_name=self.project_name, user_domain_name="Default",
            project_domain_name="Default"))


@dataclass
class Cloud:
    """The demo cloud as tests see it: regions, credentials, connections."""

    summary: dict
    admin_creds: Credentials
    member_creds: Credentials
    _sessions: dict = field(default_factory=dict)
    _connections: dict = field(default_factory=dict)

    @property
    def regions(self) -> list[str]:
        return list(self.summary["regions"])

    @property
    def control_url(self) -> str:
        return self.summary["regionsim_control_url"]

    @property
    def kingbird_root(self) -> str:
        return self.summary["kingbird_url"].rsplit("/v1.0", 1)[0]

    def session_for(self, creds: Credentials) -> ks_session.Session:
        if creds.username not in self._sessions:
            self._sessions[creds.username] = creds.session()
        return self._sessions[creds.username]

    def _connection(self, creds: Credentials, region: str) -> openstack.connection.Connection:
        key = (creds.username, creds.project_name, region)
        if key not in self._connections:
            self._connections[key] = openstack.connection.Connection(
                session=self.session_for(creds), region_name=region, interface="public")
        return self._connections[key]

    def admin(self, region: str) -> openstack.connection.Connection:
        return self._connection(self.admin_creds, region)

    def member(self, region: str) -> openstack.connection.Connection:
        return self._connection(self.member_creds, region)

    def admin_token(self) -> str:
        return self.session_for(self.admin_creds).get_token()

    def member_token(self) -> str:
        return self.session_for(self.member_creds).get_token()

    def project_id(self, name: str) -> str:
        sess = self.session_for(self.admin_creds)
        found = sess.get(f"/projects?name={name}", endpoint_filter={
            "service_type": "identity", "interface": "public"}).json()["projects"]
        assert found, f"no project {name}"
        return found[0]["id"]

    def provisioner(self) -> Provisioner:
        return Provisioner(self.session_for(self.admin_creds), self.summary["keystone_url"])

    def sim(self, method: str, path: str, **kwargs) -> requests.Response:
        """Call regionsim's control API as admin, e.g. ``sim("POST", "/regions/R/down")``."""
        headers = {"X-Auth-Token": self.admin_token()}
        return requests.request(method, self.control_url + path, headers=headers,
                                timeout=30, **kwargs)


def start_demo(state_dir: Path, *extra: str) -> tuple[subprocess.Popen, dict]:
    """Start ``kingbird-demo`` in the background; return it and its ready summary."""
    ready = state_dir / "ready.json"
    ready.unlink(missing_ok=True)
    args = [sys.executable, "-m", "kingbird.cmd.demo", "--state-dir", str(state_dir),
            "--api-port", str(free_port()), "--ready-file", str(ready), *extra]
    log = open(state_dir.parent / f"{state_dir.name}-demo.out", "ab")  # noqa: SIM115
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_demo(proc)
            raise RuntimeError(f"kingbird-demo did not start; see {log.name} and "
                               f"{state_dir}/*.log")
        time.sleep(0.1)
    return proc, json.loads(ready.read_text())


def stop_demo(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
