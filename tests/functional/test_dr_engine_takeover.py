"""An engine killed in the middle of a failover: another engine takes the operation
over when its lease expires, resumes from the recorded steps, and completes it
without making anything twice.

The demo runs here without its in-process engine (``--no-engine``); engines are
``kingbird-engine`` processes on the demo's database.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from demo_support import Cloud, Credentials, _read_openrc, start_demo, stop_demo
from dr_helpers import (
    ONE,
    TWO,
    DrAPI,
    addresses,
    digest,
    make_tenant,
    make_vnf,
    servers_in,
    write_contents,
)
from kb_http import KingbirdHTTP, wait_for

from kingbird.dr import shape as dr_shape

LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("dr-takeover") / "demo"
    state_dir.mkdir()
    proc, summary = start_demo(state_dir, "--no-engine", "--sync-interval", "3")
    yield summary
    stop_demo(proc)


@pytest.fixture(scope="module")
def cloud(stack) -> Cloud:
    def creds(path):
        env = _read_openrc(path)
        return Credentials(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                           env["OS_PROJECT_NAME"])

    return Cloud(stack, creds(stack["admin_openrc"]), creds(stack["member_openrc"]))


class Engine:
    """One ``kingbird-engine`` process with short leases."""

    def __init__(self, stack: dict, workdir: Path, name: str):
        overrides = workdir / f"{name}.conf"
        overrides.write_text(f"[engine]\nlease_seconds = {LEASE_SECONDS}\n"
                             f"poll_interval = 0.2\nengine_id = {name}\n")
        self.log = workdir / f"{name}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kingbird.cmd.engine", "--config-file",
                 stack["kingbird_conf"], "--config-file", str(overrides)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: "started" in self.log.read_text(), timeout=30, what="engine start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def engines(stack, tmp_path):
    started: list[Engine] = []

    def start(name: str) -> Engine:
        started.append(Engine(stack, tmp_path, name))
        return started[-1]

    yield start
    for engine in started:
        engine.stop()


def _point_midway(api: DrAPI, token: str, plan_id: str):
    """The restore point being taken, once its snapshots are made."""
    points = [p for p in api.points(token, plan_id) if p["status"] == "CREATING"]
    if not points:
        return None
    point = api.point(token, plan_id, points[0]["id"])
    done = [s["name"] for s in point["steps"] if s["status"] == "DONE"]
    return point if "snapshot" in done else None


def test_killed_engines_restore_point_and_failover_are_completed_by_others(
        stack, cloud, engines):
    first = engines("dr-engine-a")
    tenant = make_tenant(cloud, [ONE, TWO])
    vnf = make_vnf(cloud, tenant, replicated=False)
    write_contents(cloud, vnf, 0)
    api = DrAPI(KingbirdHTTP(cloud.kingbird_root), tenant.project_id)
    token = tenant.token()
    created = api.create_plan(token, name="vnf", servers=[s["id"] for s in vnf.servers],
                              source_region=ONE, recovery_region=TWO)
    assert created.status_code == 201, created.text
    plan_id = created.json()["plan"]["id"]
    api.wait_points(token, plan_id, 1)
    expected = write_contents(cloud, vnf, 0) | write_contents(cloud, vnf, 1)

    # A restore point: its engine dies after the snapshots, another one finishes it.
    cloud.sim("PUT", f"/regions/{ONE}/faults", json={"latency": 0.1})
    try:
        assert api.call("POST", f"/plans/{plan_id}/restore-points", token).status_code == 202
        at_kill = wait_for(lambda: _point_midway(api, token, plan_id), timeout=60,
                           interval=0.05, what="a restore point half taken")
        first.kill()
    finally:
        cloud.sim("DELETE", f"/regions/{ONE}/faults")
    second = engines("dr-engine-b")
    point = api.wait_points(token, plan_id, 2)[-1]
    assert point["id"] == at_kill["id"] and point["incremental"]
    backups = list(tenant.conn(ONE).block_storage.backups(details=True))
    assert len([b for b in backups if point["id"] in (b.name or "")]) == 6
    assert list(tenant.conn(ONE).block_storage.snapshots()) == []
    print(f"\n[DR takeover] restore point: engine killed after "
          f"{[s['name'] for s in at_kill['steps'] if s['status'] == 'DONE']}; completed "
          "by another engine, 6 backups, no snapshot left")

    # A failover: its engine dies half way, a third engine completes it.
    cloud.sim("PUT", f"/regions/{TWO}/faults", json={"latency": 0.1})
    cloud.sim("POST", f"/regions/{ONE}/down")
    try:
        answer = api.call("POST", f"/plans/{plan_id}/failover", cloud.admin_token())
        assert answer.status_code == 202, answer.text
        op_id = answer.json()["operation"]["id"]

        def midway():
            op = api.operation(token, op_id)
            done = [s["name"] for s in op["steps"] if s["status"] == "DONE"]
            return op if "create_ports" in done and op["status"] == "IN_PROGRESS" else None

        at_kill = wait_for(midway, timeout=60, interval=0.05, what="a failover half done")
        second.kill()
        cloud.sim("DELETE", f"/regions/{TWO}/faults")
        third = engines("dr-engine-c")
        operation = api.wait_operation(token, op_id, timeout=90)
    finally:
        cloud.sim("DELETE", f"/regions/{TWO}/faults")
        cloud.sim("POST", f"/regions/{ONE}/up")
    assert operation["status"] == "SUCCESS", (operation["error"], operation["steps"])
    running = [s["name"] for s in at_kill["steps"] if s["status"] == "RUNNING"]
    print(f"[DR takeover] failover: engine killed while {running or 'between steps'} was "
          f"running ({at_kill['progress']}); completed by another engine")
    assert f"operation {op_id}" in third.log.read_text()

    # Everything exists once: three servers, six volumes, three ports.
    recovered = servers_in(tenant, TWO)
    assert sorted(s.name for s in recovered) == [s["name"] for s in vnf.servers]
    by_name = {s.name: s for s in recovered}
    for server in vnf.servers:
        assert addresses(by_name[server["name"]]) == [(vnf.network, server["ip"])]
    conn = tenant.conn(TWO)
    volumes = [v for v in conn.block_storage.volumes(details=True)
               if (v.metadata or {}).get(dr_shape.TAG_OPERATION) == op_id]
    assert len(volumes) == 6
    assert len(list(conn.network.ports(project_id=tenant.project_id,
                                       device_owner="compute:nova"))) == 3
    for server in vnf.servers:
        attached = {a.device: a.volume_id
                    for a in conn.compute.volume_attachments(by_name[server["name"]])}
        assert digest(cloud, TWO, attached["/dev/vda"]) == expected[server["boot"]]
        assert digest(cloud, TWO, attached["/dev/vdb"]) == expected[server["data"]]
