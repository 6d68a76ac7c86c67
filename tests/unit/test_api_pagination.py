"""``limit`` and ``marker`` on the list routes (kingbird.api.pagination): a small
list is answered as it always was, a longer one in pages with a next link that
leads through the whole list, the page size is bounded, and a bad ``limit`` or an
unknown ``marker`` is a 400 naming it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from _api_harness import api_client, caller
from _network_sim import SimRegions

from kingbird.api import openapi
from kingbird.sync import repository as jobs_db

R1, R2 = "RegionOne", "RegionTwo"
P1, P2 = "a" * 32, "b" * 32
ENTRY = [{"resource": "kp", "resource_type": "keypair", "source_region": R1,
          "target_region": R2}]


def make_jobs(tx, project, count):
    with tx() as session:
        return [jobs_db.create_job(session, project, "u1", ENTRY)["id"] for _ in range(count)]


def follow(api, path, project, collection):
    """Every page from ``path`` on: the ids of each page."""
    pages = []
    while path:
        answer = api.get(path, headers=caller(project))
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        pages.append([item["id"] for item in body[collection]])
        links = body.get(f"{collection}_links")
        if links:
            [link] = links
            assert link["rel"] == "next"
            parts = urlsplit(link["href"])
            path = f"{parts.path}?{parts.query}"
        else:
            path = None
    return pages


def test_a_small_list_is_answered_as_before(tx):
    api = api_client(tx)
    ids = make_jobs(tx, P1, 3)
    body = api.get("/v1.1/os-sync", headers=caller(P1)).get_json()
    assert list(body) == ["job_set"] and [j["id"] for j in body["job_set"]] == ids


def test_sync_jobs_are_paged_with_next_links_through_the_whole_list(tx):
    api = api_client(tx)
    ids = sorted(make_jobs(tx, P1, 5), key=ids_order(tx, P1))
    make_jobs(tx, P2, 2)
    assert follow(api, "/v1.1/os-sync?limit=2", P1, "job_set") == [ids[:2], ids[2:4], ids[4:]]
    assert follow(api, f"/v1.0/{P1}/os-sync/?limit=2&marker={ids[1]}", P1, "job_set") == [
        ids[2:4], ids[4:]]
    assert follow(api, "/v1.1/os-sync/active?limit=4", P1, "job_set") == [ids[:4], ids[4:]]


def ids_order(tx, project):
    with tx() as session:
        order = [j["id"] for j in jobs_db.list_jobs(session, project)]
    return order.index


def test_the_page_size_is_bounded_by_max_page_size(tx):
    api = api_client(tx, api__max_page_size=2)
    ids = make_jobs(tx, P1, 3)
    ordered = sorted(ids, key=ids_order(tx, P1))
    assert follow(api, "/v1.1/os-sync", P1, "job_set") == [ordered[:2], ordered[2:]]
    assert follow(api, "/v1.1/os-sync?limit=500", P1, "job_set") == [ordered[:2],
                                                                        ordered[2:]]


@pytest.mark.parametrize("query,wanted", [
    ("limit=0", "'limit' must be a positive integer, got '0'"),
    ("limit=-1", "'limit' must be a positive integer"),
    ("limit=abc", "'limit' must be a positive integer"),
    ("limit=1.5", "'limit' must be a positive integer"),
    ("limit=99999999999999999999", "'limit' must be a positive integer"),
    ("marker=", "'marker' must be an id"),
    ("marker=" + "x" * 256, "'marker' must be an id"),
    ("marker=no-such-job", "marker 'no-such-job' not found"),
])
def test_a_bad_limit_or_marker_is_a_400_naming_it(tx, query, wanted):
    api = api_client(tx)
    for path in ("/v1.1/os-sync", "/v1.1/os-global-security-group-rules",
                 "/v1.1/os-global-routers", "/v1.1/os-dr/plans", "/v1.1/os-dr/operations"):
        answer = api.get(f"{path}?{query}", headers=caller(P1))
        if query.startswith("marker=no-such") and "os-sync" not in path:
            wanted = "marker 'no-such-job' not found"
        assert answer.status_code == 400, (path, answer.get_data(as_text=True))
        assert wanted in answer.get_json()["error"]["message"], path


def test_another_projects_job_is_no_marker(tx):
    api = api_client(tx)
    [foreign] = make_jobs(tx, P2, 1)
    answer = api.get(f"/v1.1/os-sync?marker={foreign}", headers=caller(P1))
    assert answer.status_code == 400 and "not found" in answer.get_json()["error"]["message"]


def test_global_networks_are_paged(tx):
    sim = SimRegions([R1, R2])
    api = api_client(tx, sim, regions=(R1, R2),
                     networking__tunnel_endpoints={R1: "192.0.2.1", R2: "192.0.2.2"})
    ids = []
    for n in range(3):
        answer = api.post("/v1.1/os-global-networks", headers=caller(P1), json={
            "global_network": {"cidr": f"10.0.{n}.0/24", "regions": [R1, R2]}})
        ids.append(answer.get_json()["global_network"]["id"])
    assert follow(api, "/v1.1/os-global-networks", P1, "global_networks") == [ids]
    assert follow(api, "/v1.1/os-global-networks?limit=2", P1, "global_networks") == [
        ids[:2], ids[2:]]
    vips = api.get(f"/v1.1/os-global-networks/{ids[0]}/vips?limit=1", headers=caller(P1))
    assert vips.status_code == 200 and vips.get_json() == {"vips": []}


def test_openapi_describes_the_page_parameters_and_links():
    document = openapi.document("1.1")
    for path in ("/v1.1/os-sync", "/v1.0/{tenant}/os-sync/active", "/v1.1/os-global-networks",
                 "/v1.1/os-global-networks/{network_id}/vips",
                 "/v1.1/os-global-security-group-rules", "/v1.1/os-global-routers",
                 "/v1.1/os-dr/plans", "/v1.1/os-dr/plans/{plan_id}/restore-points",
                 "/v1.1/os-dr/operations"):
        get = document["paths"][path]["get"]
        query = {p["name"]: p for p in get["parameters"] if p["in"] == "query"}
        assert {"limit", "marker"} <= set(query), path
        assert query["limit"]["schema"] == {"type": "integer", "minimum": 1}
        schema = get["responses"]["200"]["content"]["application/json"]["schema"]
        assert any(name.endswith("_links") for name in schema["properties"]), path
