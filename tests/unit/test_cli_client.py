"""The Python client library over a fake transport: URLs, bodies, results, errors."""

from __future__ import annotations

import pytest
from _fake_kingbird import ENDPOINT, PROJECT, TOKEN, FakeTransport, session_with
from keystoneauth1 import exceptions as ksa_exc

from kingbird.client import (
    AuthenticationFailed,
    Client,
    ConnectionFailed,
    ProjectUnknown,
    QuotaSet,
    SyncJob,
    exceptions,
)
from kingbird.client.http import api_root, error_from_keystoneauth, error_from_response
from kingbird.quota.keys import QUOTA_KEYS

OTHER = "22222222222222222222222222222222"
BASE = f"/{PROJECT}"


@pytest.fixture
def transport():
    return FakeTransport()


@pytest.fixture
def kb(transport):
    return Client(session_with(transport), endpoint=ENDPOINT, project_id=PROJECT)


@pytest.mark.parametrize(("endpoint", "project", "root"), [
    ("http://h:8118/v1.0", "p1", "http://h:8118/v1.0/p1"),
    ("http://h:8118/v1.0/", "p1", "http://h:8118/v1.0/p1"),
    ("http://h:8118/v1.0", None, "http://h:8118/v1.1"),
    ("http://h:8118/v1.1", "p1", "http://h:8118/v1.1"),
    ("http://h:8118/v1.0/p0", "p1", "http://h:8118/v1.0/p0"),
    ("http://h:8118", "p1", "http://h:8118/v1.0/p1"),
    ("http://h:8118/", None, "http://h:8118/v1.1"),
    ("http://h/kingbird/v1.0", "p1", "http://h/kingbird/v1.0/p1"),
])
def test_api_root_puts_the_tenant_after_v1_0_and_falls_back_to_v1_1(endpoint, project, root):
    assert api_root(endpoint, project) == root


def test_quota_show_sends_the_token_to_the_tenant_path_and_orders_keys_as_the_guide(
        kb, transport):
    reversed_limits = {key: n for n, key in enumerate(reversed(QUOTA_KEYS))}
    transport.answer("GET", f"{BASE}/os-quota-sets/{OTHER}", 200,
                     {"quota_set": reversed_limits})
    result = kb.quotas.get(OTHER)
    assert result == QuotaSet(OTHER, reversed_limits)
    assert list(result.limits) == list(QUOTA_KEYS)
    assert transport.sent[0].headers["X-Auth-Token"] == TOKEN


def test_quota_show_without_project_is_the_callers_own(kb, transport):
    transport.answer("GET", f"{BASE}/os-quota-sets/{PROJECT}", 200, {"quota_set": {"cores": 5}})
    assert kb.quotas.get().project_id == PROJECT


def test_keys_a_newer_server_adds_are_kept_after_the_known_ones(kb, transport):
    transport.answer("GET", f"{BASE}/os-quota-sets/defaults", 200,
                     {"quota_set": {"gpus": 2, "cores": 20}})
    assert list(kb.quotas.defaults().limits.items()) == [("cores", 20), ("gpus", 2)]


def test_update_puts_the_limits_under_quota_set(kb, transport):
    transport.answer("PUT", f"{BASE}/os-quota-sets/{OTHER}", 200,
                     {"quota_set": {"port": 10, "security_groups": 10}})
    result = kb.quotas.update(OTHER, {"port": 10, "security_groups": 10})
    assert transport.sent[0].body == {"quota_set": {"port": 10, "security_groups": 10}}
    assert result.limits == {"port": 10, "security_groups": 10}


def test_delete_sends_a_key_list_only_when_keys_are_given(kb, transport):
    transport.answer("DELETE", f"{BASE}/os-quota-sets/{OTHER}", 200, {"deleted": "all"})
    kb.quotas.delete(OTHER)
    kb.quotas.delete(OTHER, ["cores", "ram"])
    assert [s.body for s in transport.sent] == [None, {"quota_set": ["cores", "ram"]}]


def test_detail_returns_limits_usage_remaining_and_the_regions_missing(kb, transport):
    transport.answer("GET", f"{BASE}/os-quota-sets/{PROJECT}/detail", 200, {"quota_set": {
        "limits": {"cores": 20, "ram": -1}, "usage": {"cores": 6, "ram": 512},
        "remaining": {"cores": 14, "ram": -1},
        "regions": {"RegionOne": {"limits": {"cores": 20}, "usage": {"cores": 6}}},
        "missing_regions": {"RegionTwo": "connection refused"}, "last_sync": None}})
    detail = kb.quotas.detail()
    assert detail.rows() == [("cores", 20, 6, 14), ("ram", -1, 512, -1)]
    assert detail.regions["RegionOne"].usage == {"cores": 6}
    assert detail.missing_regions == {"RegionTwo": "connection refused"}


def test_quota_sync_is_a_put_without_body(kb, transport):
    transport.answer("PUT", f"{BASE}/os-quota-sets/{OTHER}/sync", 200, {"quota_sync": {}})
    kb.quotas.sync(OTHER)
    assert [(s.method, s.body) for s in transport.sent] == [("PUT", None)]


def test_quota_class_splits_the_class_name_from_the_limits(kb, transport):
    transport.answer("PUT", f"{BASE}/os-quota-class-sets/default", 200,
                     {"quota_class_set": {"class_name": "default", "cores": 100}})
    result = kb.quota_classes.update("default", {"cores": 100})
    assert transport.sent[0].body == {"quota_class_set": {"cores": 100}}
    assert (result.class_name, result.limits) == ("default", {"cores": 100})


def test_sync_create_sends_the_resource_set_and_returns_the_job(kb, transport):
    transport.answer("POST", f"{BASE}/os-sync", 200, {"job_status": {
        "id": "j1", "status": "IN_PROGRESS", "created_at": "2026-01-01T00:00:00"}})
    job = kb.sync_jobs.create("keypair", ["kp1"], "RegionOne", ["RegionTwo"], force=True)
    assert transport.sent[0].body == {"resource_set": {
        "resources": ["kp1"], "resource_type": "keypair", "source": "RegionOne",
        "target": ["RegionTwo"], "force": True}}
    assert job == SyncJob("j1", "IN_PROGRESS", "2026-01-01T00:00:00", None)


def test_sync_template_goes_under_sync_in_the_resource_set(kb, transport):
    transport.answer("POST", f"{BASE}/os-sync", 200,
                     {"job_status": {"id": "j2", "status": "IN_PROGRESS"}})
    entries = [{"resource_type": "flavor", "resources": ["m1"], "source": "RegionOne",
                "target": ["RegionTwo"]}]
    kb.sync_jobs.create_from_template(entries)
    assert transport.sent[0].body == {"resource_set": {"Sync": entries}}


def test_sync_list_active_and_show(kb, transport):
    transport.answer("GET", f"{BASE}/os-sync/active", 200, {"job_set": [
        {"id": "j1", "sync_status": "IN_PROGRESS", "created_at": "c", "updated_at": "u"}]})
    transport.answer("GET", f"{BASE}/os-sync/j1", 200, {"job_set": [
        {"id": "j1", "resource": "kp1", "source_region": "RegionOne",
         "target_region": "RegionTwo", "resource_type": "keypair", "sync_status": "FAILURE",
         "created_at": "c", "updated_at": "u", "error": "already exists"}]})
    assert kb.sync_jobs.list(active=True) == [SyncJob("j1", "IN_PROGRESS", "c", "u")]
    [entry] = kb.sync_jobs.get("j1")
    assert (entry.resource, entry.status, entry.error) == ("kp1", "FAILURE", "already exists")


def test_lists_follow_the_next_links_below_the_clients_root(kb, transport):
    def job(n):
        return {"id": f"j{n}", "sync_status": "SUCCESS", "created_at": "c", "updated_at": "u"}

    elsewhere = "http://internal:8118/v1.0/x/os-sync"  # only its limit and marker count
    transport.answer("GET", f"{BASE}/os-sync", 200, {
        "job_set": [job(1), job(2)],
        "job_set_links": [{"rel": "next", "href": f"{elsewhere}?limit=2&marker=j2"}]})
    transport.answer("GET", f"{BASE}/os-sync?limit=2&marker=j2", 200, {
        "job_set": [job(3)]})
    assert [j.id for j in kb.sync_jobs.list()] == ["j1", "j2", "j3"]
    assert [s.url for s in transport.sent] == [f"{ENDPOINT}{BASE}/os-sync",
                                               f"{ENDPOINT}{BASE}/os-sync?limit=2&marker=j2"]
    transport.answer("GET", f"{BASE}/os-dr/plans?all_projects=1", 200, {
        "plans": [], "plans_links": [{"rel": "next", "href": "x?marker=p9"}]})
    transport.answer("GET", f"{BASE}/os-dr/plans?all_projects=1&marker=p9", 200,
                     {"plans": []})
    assert kb.dr.list_plans(all_projects=True) == []
    assert transport.sent[-1].url.endswith("/os-dr/plans?all_projects=1&marker=p9")


def test_an_api_error_raises_the_class_of_its_status_with_the_apis_message(kb, transport):
    transport.answer("PUT", f"{BASE}/os-quota-sets/{OTHER}", 403, {"error": {
        "code": 403, "title": "Forbidden", "message": "policy does not allow\nthis"}})
    with pytest.raises(exceptions.Forbidden) as caught:
        kb.quotas.update(OTHER, {"cores": 1})
    assert caught.value.message == "policy does not allow this"
    assert caught.value.http_status == 403


def test_a_status_without_a_class_keeps_its_code_and_a_text_body():
    exc = error_from_response(502, "<html>Bad Gateway</html>", "Bad Gateway")
    assert (exc.code, exc.title, exc.http_status) == (502, "Bad Gateway", 502)
    assert exc.message == "<html>Bad Gateway</html>"
    assert isinstance(exc, exceptions.KingbirdError)


def test_a_refused_connection_is_connection_failed_without_status(kb, transport):
    transport.refuse = True
    with pytest.raises(ConnectionFailed) as caught:
        kb.quotas.defaults()
    assert caught.value.http_status is None
    assert isinstance(caught.value, exceptions.ServiceUnavailable)


def test_a_bare_token_without_project_uses_v1_1_and_cannot_default_the_project(transport):
    kb = Client(session_with(transport), endpoint=ENDPOINT)
    transport.routes[("GET", "http://kingbird.test:8118/v1.1/os-quota-sets/defaults")] = (
        200, {"quota_set": {"cores": 20}})
    assert kb.quotas.defaults().limits == {"cores": 20}
    with pytest.raises(ProjectUnknown):
        kb.quotas.get()
    assert len(transport.sent) == 1


def test_keystones_refusal_is_authentication_failed_without_keystoneauths_suffix():
    refused = ksa_exc.Unauthorized(message="The request you have made requires "
                                   "authentication. (HTTP 401) (Request-ID: req-1)",
                                   http_status=401)
    exc = error_from_keystoneauth(refused)
    assert isinstance(exc, AuthenticationFailed)
    assert (exc.http_status, exc.message) == (
        401, "Keystone: The request you have made requires authentication.")
