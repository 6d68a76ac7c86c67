"""An engine killed in the middle of a sync job: another engine takes its entries
over when their leases expire, finishes the job, and applies nothing twice.

The demo runs here without its in-process engine (``--no-engine``); engines are
``kingbird-engine`` processes on the demo's database, as in a scale-out setup.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from demo_support import Cloud, Credentials, _read_openrc, start_demo, stop_demo
from kb_http import KingbirdHTTP, wait_for
from sync_helpers import SyncAPI, unique

from kingbird.db.session import create_engine, make_sessionmaker, transaction
from kingbird.sync import repository as jobs_db

SOURCE, TWO, THREE = "RegionOne", "RegionTwo", "RegionThree"
LEASE_SECONDS = 4


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    state_dir = tmp_path_factory.mktemp("takeover") / "demo"
    state_dir.mkdir()
    proc, summary = start_demo(state_dir, "--no-engine")
    yield summary
    stop_demo(proc)


@pytest.fixture(scope="module")
def cloud(stack) -> Cloud:
    def creds(path):
        env = _read_openrc(path)
        return Credentials(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                           env["OS_PROJECT_NAME"])

    return Cloud(stack, creds(stack["admin_openrc"]), creds(stack["member_openrc"]))


@pytest.fixture(scope="module")
def db_tx(stack):
    engine = create_engine(f"sqlite:///{stack['state_dir']}/kingbird.sqlite")
    yield lambda: transaction(make_sessionmaker(engine))
    engine.dispose()


class Engines:
    """``kingbird-engine`` processes on the stack's configuration, short leases."""

    def __init__(self, stack: dict, workdir: Path):
        self.conf = stack["kingbird_conf"]
        self.extra = workdir / "engine-overrides.conf"
        self.extra.write_text(f"[engine]\nlease_seconds = {LEASE_SECONDS}\n"
                              "poll_interval = 0.2\njob_workers = 4\n")
        self.workdir = workdir
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self) -> subprocess.Popen:
        log = self.workdir / f"engine-{len(self.procs)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kingbird.cmd.engine", "--config-file", self.conf,
                 "--config-file", str(self.extra)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        self.logs.append(log)
        wait_for(lambda: "started" in log.read_text(), timeout=30, what="engine start")
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def finished_lines(self) -> collections.Counter:
        """How many times each entry id was recorded finished, over every engine."""
        counts: collections.Counter = collections.Counter()
        for log in self.logs:
            for match in re.finditer(r"sync entry (\d+): (SUCCESS|FAILURE)", log.read_text()):
                counts[int(match.group(1))] += 1
        return counts


@pytest.fixture
def engines(stack, tmp_path):
    running = Engines(stack, tmp_path)
    yield running
    running.stop_all()


def test_a_killed_engines_entries_are_resumed_by_another_and_applied_once(
        stack, cloud, db_tx, engines):
    admin = cloud.admin(SOURCE)
    keypairs = [unique("tk") for _ in range(5)]
    for name in keypairs:
        admin.compute.create_keypair(name=name)
    flavors = [unique("tf") for _ in range(2)]
    for name in flavors:
        admin.compute.create_flavor(name=name, ram=256, vcpus=1, disk=1)
    image_name = unique("ti")
    image = admin.image.create_image(name=image_name, data=os.urandom(4 * 1024 * 1024),
                                     disk_format="raw", container_format="bare",
                                     visibility="private", allow_duplicates=True)
    api = SyncAPI(KingbirdHTTP(cloud.kingbird_root), cloud.admin_token(),
                  cloud.project_id("admin"))
    cloud.sim("PUT", f"/regions/{TWO}/faults", json={"latency": 1}).raise_for_status()
    try:
        first = engines.start()
        job_id = api.start({"Sync": [
            {"resource_type": "image", "resources": [image_name], "source": SOURCE,
             "target": [TWO]},
            {"resource_type": "keypair", "resources": keypairs, "source": SOURCE,
             "target": [TWO, THREE]},
            {"resource_type": "flavor", "resources": flavors, "source": SOURCE,
             "target": [TWO, THREE]},
        ]})

        def image_being_created():
            # The image's target record is announced, its create is on the (slow) wire.
            with db_tx() as s:
                entries = jobs_db.get_job_entries(s, job_id)
            return entries[0]["status"] == "IN_PROGRESS" and entries[0]["checkpoint"]

        wait_for(image_being_created, timeout=60, interval=0.02,
                 what="the image copy to start writing in RegionTwo")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        with db_tx() as s:
            at_kill = jobs_db.get_job_entries(s, job_id)
        assert any(e["status"] != "SUCCESS" for e in at_kill), "nothing left to take over"

        engines.start()
        entries = api.wait(job_id, timeout=180)
    finally:
        cloud.sim("DELETE", f"/regions/{TWO}/faults").raise_for_status()

    assert {e["sync_status"] for e in entries} == {"SUCCESS"}, [e["error"] for e in entries]
    assert len(entries) == 5 * 2 + 2 * 2 + 1
    with db_tx() as s:
        final = jobs_db.get_job_entries(s, job_id)
    taken_over = [e for e in final if e["attempts"] > 1]
    assert taken_over, "no entry was resumed by the second engine"
    assert {e["lease_owner"] for e in taken_over} != {e["lease_owner"] for e in at_kill
                                                      if e["status"] == "IN_PROGRESS"}
    finished = engines.finished_lines()
    assert all(finished[e["id"]] == 1 for e in final), finished

    for region in (TWO, THREE):
        compute = cloud.admin(region).compute
        for name in keypairs:
            assert compute.get_keypair(name).public_key == \
                admin.compute.get_keypair(name).public_key
        for name in flavors:
            assert len([f for f in compute.flavors(is_public=None) if f.name == name]) == 1
    copies = list(cloud.admin(TWO).image.images(name=image_name))
    assert len(copies) == 1, "the image was copied twice"
    assert copies[0].checksum == admin.image.get_image(image.id).checksum
    assert copies[0].status == "active"
