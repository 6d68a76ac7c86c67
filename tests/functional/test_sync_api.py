"""The os-sync API's refusals, listings and deletions over HTTP: every refused
request names its field and leaves no job behind; nobody sees another project's
jobs."""

# Fixtures are imported from sync_helpers and used as test arguments:
# ruff: noqa: F811

from __future__ import annotations

import concurrent.futures as cf
import time

import pytest
from sync_helpers import (  # noqa: F401 (fixtures)
    SOURCE,
    TWO,
    SyncAPI,
    admin_id,
    admin_sync,
    kb,
    keypair,
    keypair_set,
    member_sync,
    tenant,
    unique,
)

# --- refusals ------------------------------------------------------------------------


def refused(sync: SyncAPI, status: int, resource_set=None, **kwargs) -> str:
    before = len(sync.jobs())
    answer = sync.create(resource_set, **kwargs)
    assert answer.status_code == status, answer.text
    assert len(sync.jobs()) == before, "a refused request left a job behind"
    return answer.json()["error"]["message"]


@pytest.mark.parametrize(("change", "field"), [
    ({"resources": None}, "resource_set.resources"),
    ({"resources": []}, "resource_set.resources"),
    ({"resources": "kp"}, "resource_set.resources"),
    ({"resource_type": None}, "resource_set.resource_type"),
    ({"resource_type": "volume"}, "resource_set.resource_type"),
    ({"source": None}, "resource_set.source"),
    ({"source": 42}, "resource_set.source"),
    ({"target": None}, "resource_set.target"),
    ({"target": []}, "resource_set.target"),
    ({"force": "yes"}, "resource_set.force"),
    ({"force": 1}, "resource_set.force"),
    ({"target": ["Atlantis"]}, "resource_set.target"),
    ({"source": "Atlantis"}, "resource_set.source"),
    ({"target": [TWO, SOURCE]}, "resource_set.target"),
    ({"surprise": 1}, "surprise"),
])
def test_malformed_requests_are_refused_with_400_naming_the_field(
        member_sync, keypair, change, field):
    resource_set = {**keypair_set([keypair]), **change}
    resource_set = {k: v for k, v in resource_set.items() if v is not None}
    assert field in refused(member_sync, 400, resource_set)


@pytest.mark.parametrize(("body", "named"), [
    ({}, "resource_set"), ({"resource_set": "x"}, "resource_set"),
    ({"resource_set": {"Sync": []}}, "resource_set.Sync"), ({"other": {}}, "other")])
def test_bodies_without_a_usable_resource_set_are_refused(member_sync, body, named):
    assert named in refused(member_sync, 400, body=body)


def test_a_body_that_is_not_json_is_refused(member_sync):
    assert "JSON" in refused(member_sync, 400, data="{'resource_set': __import__('os')}")


def test_a_resource_missing_from_the_source_is_a_404_naming_it(member_sync, keypair):
    missing = unique("nokey")
    message = refused(member_sync, 404, keypair_set([keypair, missing]))
    assert missing in message and SOURCE in message


@pytest.mark.parametrize("resource_type", ["image", "security_group", "flavor"])
def test_missing_resources_of_every_type_are_404s(admin_sync, resource_type):
    missing = unique("nothing")
    message = refused(admin_sync, 404, {"resources": [missing], "resource_type": resource_type,
                                        "source": SOURCE, "target": [TWO]})
    assert missing in message


def test_a_member_may_not_sync_flavors(member_sync, cloud):
    flavor = cloud.admin(SOURCE).compute.create_flavor(name=unique("pub"), ram=64, vcpus=1,
                                                       disk=1)
    message = refused(member_sync, 403, {"resources": [flavor.name], "resource_type": "flavor",
                                         "source": SOURCE, "target": [TWO]})
    assert "flavor" in message


def test_another_projects_image_is_not_found(member_sync, cloud):
    name = unique("adminimg")
    cloud.admin(SOURCE).image.create_image(name=name, data=b"x" * 1024, disk_format="raw",
                                           container_format="bare", visibility="public")
    refused(member_sync, 404, {"resources": [name], "resource_type": "image",
                               "source": SOURCE, "target": [TWO]})


def test_a_member_may_not_use_another_tenant_in_the_url(kb, tenant, admin_id, keypair):
    other = SyncAPI(kb, tenant.token(), admin_id)
    assert other.create(keypair_set([keypair])).status_code == 403
    assert kb.call("GET", f"/v1.0/{admin_id}/os-sync", tenant.token()).status_code == 403


# --- listing and deleting ------------------------------------------------------------


def test_jobs_are_listed_shown_and_deleted_once_finished(member_sync, keypair):
    job_id = member_sync.start(keypair_set([keypair], targets=[TWO]))
    entries = member_sync.wait(job_id)
    (entry,) = entries
    assert set(entry) >= {"id", "resource", "source_region", "target_region", "resource_type",
                          "sync_status", "created_at", "updated_at", "error"}
    assert (entry["id"], entry["resource"], entry["resource_type"]) == (
        job_id, keypair, "keypair")
    (job,) = [j for j in member_sync.jobs() if j["id"] == job_id]
    assert set(job) == {"id", "sync_status", "created_at", "updated_at"}
    assert job["sync_status"] == "SUCCESS"
    assert job_id not in [j["id"] for j in member_sync.jobs(active=True)]
    answer = member_sync.delete(job_id)
    assert answer.status_code == 200
    assert member_sync.kb.call("GET", f"{member_sync.base}/{job_id}",
                               member_sync.token).status_code == 404
    assert member_sync.delete(job_id).status_code == 404


def test_list_without_the_trailing_slash_and_under_v1_1(member_sync, kb, keypair):
    job_id = member_sync.run(keypair_set([keypair], targets=[TWO]))[0]["id"]
    plain = kb.call("GET", member_sync.base, member_sync.token)
    v11 = kb.call("GET", "/v1.1/os-sync", member_sync.token)
    assert plain.status_code == v11.status_code == 200
    assert job_id in [j["id"] for j in plain.json()["job_set"]]
    assert plain.json() == v11.json()
    detail = kb.call("GET", f"/v1.1/os-sync/{job_id}", member_sync.token)
    assert detail.json()["job_set"][0]["id"] == job_id


def test_a_job_in_progress_is_active_and_cannot_be_deleted(member_sync, cloud, keypair):
    cloud.sim("PUT", f"/regions/{TWO}/faults", json={"latency": 1.5}).raise_for_status()
    try:
        job_id = member_sync.start(keypair_set([keypair], targets=[TWO]))
        assert job_id in [j["id"] for j in member_sync.jobs(active=True)]
        answer = member_sync.delete(job_id)
        assert answer.status_code == 406
        assert "in progress" in answer.json()["error"]["message"]
    finally:
        cloud.sim("DELETE", f"/regions/{TWO}/faults").raise_for_status()
    member_sync.wait(job_id)
    assert member_sync.delete(job_id).status_code == 200


def test_another_projects_job_is_not_found(member_sync, admin_sync, cloud):
    name = unique("adminkp")
    cloud.admin(SOURCE).compute.create_keypair(name=name)
    job_id = admin_sync.run(keypair_set([name], targets=[TWO]))[0]["id"]
    assert job_id not in [j["id"] for j in member_sync.jobs()]
    kb, token = member_sync.kb, member_sync.token
    assert kb.call("GET", f"{member_sync.base}/{job_id}", token).status_code == 404
    assert member_sync.delete(job_id).status_code == 404
    assert kb.call("GET", f"/v1.1/os-sync/{job_id}", token).status_code == 404
    assert admin_sync.entries(job_id)  # still there for its own project


def test_an_unknown_job_is_not_found(member_sync):
    assert member_sync.delete("00000000-0000-0000-0000-000000000000").status_code == 404
    assert member_sync.kb.call("GET", f"{member_sync.base}/not-a-job",
                               member_sync.token).status_code == 404


# --- the 2018 client, and a request that asks for the same lookup 500 times ----------


def test_the_2018_client_creates_a_job_at_os_sync_with_a_trailing_slash(member_sync, keypair):
    """python-kingbirdclient 0.2.1 (``kingbird sync create`` and ``sync template``)
    POSTs ``/v1.0/{tenant}/os-sync/``."""
    answer = member_sync.kb.call("POST", member_sync.base + "/", member_sync.token,
                                 json={"resource_set": keypair_set([keypair], targets=[TWO])})
    assert answer.status_code == 200, answer.text
    job_id = answer.json()["job_status"]["id"]
    assert [e["sync_status"] for e in member_sync.wait(job_id)] == ["SUCCESS"]


COPIES, AT_ONCE, LATENCY = 500, 16, 0.5


def test_a_template_of_500_copies_under_region_latency_is_answered_fast_health_too(
        member_sync, cloud, keypair):
    """16 requests at once (the API's threads), each a template of 500 copies of one
    spec, while the source region answers every call 0.5 s late: each request is one
    lookup, so each is answered within a few latencies, well inside ``[regions]
    detail_deadline``, and /healthcheck answers throughout. (Before the lookups were
    de-duplicated and run in parallel, each asked 500 times in a row.)"""
    template = {"Sync": [keypair_set([keypair], targets=[TWO])] * COPIES}
    member_sync.jobs()  # the token is validated once, before the clock starts
    kb, health = member_sync.kb, []

    def timed_create():
        started = time.monotonic()
        answer = member_sync.create(template)
        return answer, time.monotonic() - started

    cloud.sim("PUT", f"/regions/{SOURCE}/faults", json={"latency": LATENCY}).raise_for_status()
    try:
        with cf.ThreadPoolExecutor(AT_ONCE) as pool:
            posts = [pool.submit(timed_create) for _ in range(AT_ONCE)]
            while not all(p.done() for p in posts):
                started = time.monotonic()
                assert kb.call("GET", "/healthcheck").status_code == 200
                health.append(time.monotonic() - started)
                time.sleep(0.05)
            answers = [p.result() for p in posts]
    finally:
        cloud.sim("DELETE", f"/regions/{SOURCE}/faults").raise_for_status()
    assert [a.status_code for a, _ in answers] == [200] * AT_ONCE, answers[0][0].text
    slowest = max(seconds for _, seconds in answers)
    assert slowest < 8 * LATENCY, f"a request took {slowest:.1f} s"
    assert health and max(health) < 4 * LATENCY, f"/healthcheck took {max(health):.1f} s"
    job_id = answers[0][0].json()["job_status"]["id"]
    assert len(member_sync.entries(job_id)) == 1
