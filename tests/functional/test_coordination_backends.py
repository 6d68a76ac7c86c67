"""Coordination through the real tooz backends: a private PostgreSQL and a private
redis-server, each started for this module (nothing the machine runs is needed).

The scheduler role is held by one engine process at a time and passes to
another when its holder is killed; a PostgreSQL restart drops the role (the
advisory lock died with its connection) and it is taken again afterwards.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import pytest
from kb_http import wait_for

from kingbird.demo.pgcluster import PgCluster
from kingbird.engine.coordination import SCHEDULER, ToozCoordinator
from regionsim.topology import free_port

pytestmark = pytest.mark.functional

HOLDER = """
import sys, time
from kingbird.engine.coordination import SCHEDULER, ToozCoordinator
c = ToozCoordinator(sys.argv[1], "holder")
c.start()
while not c.is_leader(SCHEDULER):
    time.sleep(0.1)
print("leader", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def postgresql_url(tmp_path_factory):
    cluster = PgCluster(tmp_path_factory.mktemp("coord-pg") / "pg", free_port())
    cluster.start_primary()
    cluster.create_database("coord")
    yield cluster, f"postgresql://postgres@127.0.0.1:{cluster.primary.port}/coord"
    cluster.stop()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is missing: scripts/system-deps.sh installs it")
    port = free_port()
    workdir = tmp_path_factory.mktemp("coord-redis")
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import redis

    client = redis.Redis(port=port)
    wait_for(lambda: _ping(client), timeout=20, what="redis-server")
    yield f"redis://127.0.0.1:{port}?timeout=2"
    proc.terminate()
    proc.wait(10)


def _ping(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


@pytest.fixture(params=["postgresql", "redis"])
def backend(request):
    if request.param == "postgresql":
        return request.getfixturevalue("postgresql_url")[1]
    return request.getfixturevalue("redis_url")


def _holder(url: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "leader"
    return proc


def test_the_scheduler_role_passes_on_when_its_holder_is_killed(backend):
    holder = _holder(backend)
    follower = ToozCoordinator(backend, "follower")
    follower.start()
    try:
        assert not follower.is_leader(SCHEDULER)
        with follower.exclusive("quota-p") as free:
            assert free, "a project lock is not the scheduler role"
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        killed = time.monotonic()
        wait_for(lambda: follower.is_leader(SCHEDULER), timeout=30, interval=0.1,
                 what="the role to pass on")
        print(f"\nrole taken over {time.monotonic() - killed:.2f} s after the kill")
    finally:
        if holder.poll() is None:
            holder.kill()
        follower.stop()


def test_a_database_restart_drops_the_role_and_it_is_taken_again(postgresql_url):
    cluster, url = postgresql_url
    engine = ToozCoordinator(url, "engine")
    engine.start()
    try:
        assert engine.is_leader(SCHEDULER)
        cluster.primary.stop()
        assert not engine.is_leader(SCHEDULER), "a lock whose connection died is not held"
        cluster.primary.start()
        wait_for(lambda: engine.is_leader(SCHEDULER), timeout=30, what="the role again")
    finally:
        engine.stop()
