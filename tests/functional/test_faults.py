"""Faults survived in scale-out mode (gunicorn API, two engines, PostgreSQL, tooz).

- A region down, answering 500s, timing out, or slow: quota sync and resource sync
  go on in the other regions, record the failure with its reason, retry, and
  recover by themselves once the region is back; the global limit holds
  throughout.
- Keystone restarted under a running Kingbird: 503 while it is away, normal
  service after, nothing restarted.
- The database restarted under load: the API answers 503 (never 500) meanwhile,
  the engines reconnect and every job accepted is carried out, once.

Recovery times are printed (``pytest -s``).
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from kb_http import KingbirdHTTP, wait_for
from scaleout_support import (
    PUBLIC_KEY,
    cloud_of,
    create_projects,
    finished_entries,
    start_stack,
    unique,
)
from sync_helpers import SyncAPI

from kingbird.quota import status_repository as status_db
from kingbird.sync import repository as jobs_db

pytestmark = pytest.mark.functional

SOURCE, TWO, THREE = "RegionOne", "RegionTwo", "RegionThree"
REGIONS = (SOURCE, TWO, THREE)
REQUEST_TIMEOUT = 2.0
CORES = 60


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = start_stack(tmp_path_factory, "faults", engines=2, api_workers=2,
                          sync_interval=2, lease_seconds=4, job_workers=4,
                          poll_interval=0.3, request_timeout=REQUEST_TIMEOUT)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def cloud(stack):
    return cloud_of(stack)


@pytest.fixture(scope="module")
def kb(stack) -> KingbirdHTTP:
    return KingbirdHTTP(stack.kingbird_root)


@pytest.fixture(scope="module")
def db_tx(stack):
    return stack.db()


@pytest.fixture(scope="module")
def project(cloud, kb, db_tx) -> str:
    """A project with a global cores limit, synced everywhere."""
    (project_id,) = create_projects(cloud, 1, unique("faults"))
    answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project_id}", cloud.admin_token(),
                     json={"quota_set": {"cores": CORES}})
    assert answer.status_code == 200, answer.text
    wait_for(lambda: sum(_cores(cloud, project_id).values()) == CORES, timeout=60,
             what="the first sync")
    return project_id


@pytest.fixture(scope="module")
def sync_api(stack, cloud, kb) -> SyncAPI:
    roomy = [cloud.project_id("admin"), cloud.project_id("service")]
    for project_id in roomy:
        kb.call("PUT", f"/v1.1/os-quota-sets/{project_id}", cloud.admin_token(),
                json={"quota_set": {"key_pairs": -1}})
    wait_for(lambda: all(cloud.admin(r).compute.get_quota_set(p).key_pairs == -1
                         for r in REGIONS for p in roomy), timeout=60, what="key_pairs")
    return SyncAPI(kb, cloud.admin_token(), cloud.project_id("admin"))


def _cores(cloud, project_id: str, regions=REGIONS) -> dict[str, int]:
    return {r: cloud.admin(r).compute.get_quota_set(project_id).cores for r in regions}


def _status(db_tx, project_id: str) -> dict:
    with db_tx() as s:
        return status_db.get_sync_status(s, project_id)


def _keypair(cloud) -> str:
    name = unique("fk")
    cloud.admin(SOURCE).compute.create_keypair(name=name, public_key=PUBLIC_KEY)
    return name


FAULTS = {
    "down": (("POST", f"/regions/{THREE}/down", None), ("POST", f"/regions/{THREE}/up", None),
             "connection"),
    "errors": (("PUT", f"/regions/{THREE}/faults", {"error_rate": 1.0}),
               ("DELETE", f"/regions/{THREE}/faults", None), "HTTP 500"),
    "timeouts": (("PUT", f"/regions/{THREE}/faults", {"timeout": REQUEST_TIMEOUT + 1.5}),
                 ("DELETE", f"/regions/{THREE}/faults", None), "timed out|not called"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_region_is_recorded_while_the_others_are_served_and_recovers(
        fault, stack, cloud, kb, db_tx, project, sync_api):
    (method, path, body), (undo_method, undo_path, undo_body), reason = FAULTS[fault]
    before_three = _cores(cloud, project)[THREE]
    keypair = _keypair(cloud)
    cloud.sim(method, path, json=body).raise_for_status()
    faulty = True
    try:
        # Quota: the outcome names the region and why; the others are still synced.
        answer = kb.call("PUT", f"/v1.1/os-quota-sets/{project}/sync", cloud.admin_token())
        assert answer.status_code == 200, answer.text

        def failure_recorded():
            status = _status(db_tx, project)
            return status if status["outcome"] == "FAILURE" and \
                THREE in status["failed_regions"] else None

        status = wait_for(failure_recorded, timeout=60, what=f"the {fault} to be recorded")
        assert any(word in status["reason"] for word in reason.split("|")), status["reason"]
        others = _cores(cloud, project, (SOURCE, TWO))
        assert sum(others.values()) + before_three <= CORES, "the global limit was exceeded"

        # Resource sync: the healthy region is served at once, the faulty one waits
        # for a retry with its reason recorded.
        job_id = sync_api.start({"Sync": [{"resource_type": "keypair", "resources": [keypair],
                                           "source": SOURCE, "target": [TWO, THREE]}]})

        def two_done_three_retrying():
            entries = {e["target_region"]: e for e in sync_api.entries(job_id)}
            with db_tx() as s:
                rows = {e["target_region"]: e for e in jobs_db.get_job_entries(s, job_id)}
            ok = entries[TWO]["sync_status"] == "SUCCESS" and rows[THREE]["error"] and \
                rows[THREE]["status"] == "IN_PROGRESS"
            return rows[THREE] if ok else None

        three = wait_for(two_done_three_retrying, timeout=30, interval=0.2,
                         what="RegionTwo served and RegionThree waiting for a retry")
        assert THREE in three["error"]

        cloud.sim(undo_method, undo_path, json=undo_body).raise_for_status()
        faulty = False
        back = time.monotonic()
        entries = sync_api.wait(job_id, timeout=90)
        job_recovery = time.monotonic() - back
        assert {e["sync_status"] for e in entries} == {"SUCCESS"}, entries
        wait_for(lambda: _status(db_tx, project)["outcome"] == "SUCCESS", timeout=60,
                 what="a successful quota sync after the fault")
        quota_recovery = time.monotonic() - back
        assert sum(_cores(cloud, project).values()) == CORES
        print(f"\n{fault}: quota sync recovered {quota_recovery:.1f} s and the sync job "
              f"{job_recovery:.1f} s after the region was back")
    finally:
        if faulty:
            cloud.sim(undo_method, undo_path, json=undo_body).raise_for_status()


def test_a_slow_region_slows_only_itself(cloud, kb, db_tx, project, sync_api):
    keypairs = [_keypair(cloud) for _ in range(2)]
    cloud.sim("PUT", f"/regions/{THREE}/faults", json={"latency": 1.0}).raise_for_status()
    try:
        started = time.monotonic()
        slow = sync_api.start({"Sync": [{"resource_type": "keypair", "resources": [keypairs[0]],
                                         "source": SOURCE, "target": [THREE]}]})
        fast = sync_api.start({"Sync": [{"resource_type": "keypair", "resources": [keypairs[1]],
                                         "source": SOURCE, "target": [TWO]}]})
        assert {e["sync_status"] for e in sync_api.wait(fast, 30)} == {"SUCCESS"}
        fast_seconds = time.monotonic() - started
        assert {e["sync_status"] for e in sync_api.wait(slow, 60)} == {"SUCCESS"}
        slow_seconds = time.monotonic() - started
        kb.call("PUT", f"/v1.1/os-quota-sets/{project}/sync", cloud.admin_token())
        wait_for(lambda: not _status(db_tx, project)["requested_at"] and
                 _status(db_tx, project)["outcome"] == "SUCCESS", timeout=60,
                 what="a quota sync through the slow region")
    finally:
        cloud.sim("DELETE", f"/regions/{THREE}/faults").raise_for_status()
    assert fast_seconds < slow_seconds
    print(f"\nslow region: job to RegionTwo {fast_seconds:.1f} s, to RegionThree "
          f"{slow_seconds:.1f} s (1 s per call there)")


def test_a_jobs_request_id_follows_it_into_the_engine_logs(stack, cloud, sync_api):
    keypair = _keypair(cloud)
    answer = requests.post(
        f"{stack.kingbird_root}/v1.0/{sync_api.tenant}/os-sync", timeout=30,
        headers={"X-Auth-Token": cloud.admin_token()},
        json={"resource_set": {"resources": [keypair], "resource_type": "keypair",
                               "source": SOURCE, "target": [TWO]}})
    assert answer.status_code == 200, answer.text
    request_id = answer.headers["x-openstack-request-id"]
    sync_api.wait(answer.json()["job_status"]["id"], timeout=60)
    engine_lines = [line for name in stack.engines
                    for line in stack.engine_log(name).read_text().splitlines()
                    if f"[{request_id}]" in line]
    assert any("sync entry" in line and "SUCCESS" in line for line in engine_lines), \
        "the engine's lines for the job do not carry the API request's id"


def test_keystone_restarted_while_kingbird_runs(stack, cloud, kb, project):
    admin_id = cloud.project_id("admin")
    path = f"/v1.1/os-quota-sets/{project}"
    seen = cloud.admin_token()
    assert kb.call("GET", path, seen).status_code == 200
    fresh = cloud.admin_creds.session().get_token()  # valid, never shown to Kingbird yet
    stack.stop_keystone()
    try:
        answer = kb.call("GET", path, fresh)
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == 503
        # A token validated before the outage is still in auth_token's cache.
        assert kb.call("GET", path, seen).status_code == 200
    finally:
        stack.start_keystone()
    back = time.monotonic()
    wait_for(lambda: kb.call("GET", path, fresh).status_code == 200, timeout=30,
             interval=0.2, what="the API to validate tokens again")
    api_recovery = time.monotonic() - back
    # The engines' own Keystone session works again too: a sync job goes through.
    job_api = SyncAPI(kb, cloud.admin_token(), admin_id)
    keypair = _keypair(cloud)
    entries = job_api.run({"Sync": [{"resource_type": "keypair", "resources": [keypair],
                                     "source": SOURCE, "target": [TWO]}]}, timeout=60)
    assert {e["sync_status"] for e in entries} == {"SUCCESS"}
    print(f"\nKeystone restart: API validating tokens again {api_recovery:.2f} s after "
          "Keystone answered")


def test_database_restarted_under_load(stack, cloud, kb, db_tx, sync_api):
    keypairs = [_keypair(cloud) for _ in range(40)]
    codes: list[tuple[float, int]] = []
    accepted: list[str] = []
    stop = threading.Event()
    token = cloud.admin_token()

    def load():
        session = requests.Session()
        for name in keypairs:
            if stop.is_set():
                return
            try:
                answer = session.post(
                    f"{stack.kingbird_root}/v1.0/{sync_api.tenant}/os-sync",
                    headers={"X-Auth-Token": token},
                    json={"resource_set": {"resources": [name], "resource_type": "keypair",
                                           "source": SOURCE, "target": [TWO, THREE]}},
                    timeout=30)
            except requests.RequestException:
                codes.append((time.monotonic(), 0))
                continue
            codes.append((time.monotonic(), answer.status_code))
            if answer.status_code == 200:
                accepted.append(answer.json()["job_status"]["id"])
            time.sleep(0.15)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        wait_for(lambda: len(accepted) >= 5, timeout=30, what="jobs before the restart")
        stack.stop_database()
        stopped = time.monotonic()
        wait_for(lambda: any(c == 503 for t, c in codes if t > stopped), timeout=30,
                 interval=0.1, what="a 503 while the database is down")
        health = requests.get(stack.kingbird_root + "/healthcheck", timeout=10)
        assert health.status_code == 503
        time.sleep(2)
        stack.start_database_again()
        restarted = time.monotonic()
        wait_for(lambda: any(c == 200 for t, c in codes if t > restarted), timeout=60,
                 interval=0.1, what="jobs accepted again after the restart")
        api_recovery = min(t for t, c in codes if t > restarted and c == 200) - restarted
    finally:
        stop.set()
        loader.join(60)
    assert 500 not in {c for _, c in codes}, codes
    assert {c for _, c in codes} <= {200, 503}, codes

    def all_done():
        with db_tx() as s:
            entries = [e for j in accepted for e in jobs_db.get_job_entries(s, j)]
        return entries if entries and all(e["status"] == "SUCCESS" for e in entries) else None

    entries = wait_for(all_done, timeout=120, interval=0.5,
                       what="every job accepted to be carried out")
    assert len(entries) == 2 * len(accepted)
    finished = finished_entries([stack.engine_log(n) for n in stack.engines])
    assert all(finished[e["id"]] == 1 for e in entries), "an entry was recorded twice"
    jobs_done = time.monotonic() - restarted
    print(f"\ndatabase restart: {sum(1 for _, c in codes if c == 503)} requests got 503, "
          f"API accepting jobs {api_recovery:.2f} s after the database was back, all "
          f"{len(accepted)} jobs done {jobs_done:.1f} s after")
