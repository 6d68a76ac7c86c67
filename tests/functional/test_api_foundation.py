"""The API's public surface: versions, health, tokens, request ids, OpenAPI."""

from __future__ import annotations

import re
import uuid

import pytest
from kb_http import KingbirdHTTP


@pytest.fixture(scope="module")
def kb(cloud) -> KingbirdHTTP:
    return KingbirdHTTP(cloud.kingbird_root)


def test_versions_document_is_public_and_lists_both_versions(kb):
    answer = kb.call("GET", "/")
    assert answer.status_code == 200
    ids = {v["id"]: v for v in answer.json()["versions"]}
    assert set(ids) == {"v1.0", "v1.1"}
    assert all(v["links"][0]["href"].startswith("http") for v in ids.values())


def test_versions_document_opens_with_a_keystone_token(kb, cloud):
    answer = kb.call("GET", "/", cloud.admin_token())
    assert answer.status_code == 200
    assert answer.json()["versions"]


def test_healthcheck_reports_the_database(kb):
    answer = kb.call("GET", "/healthcheck")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


@pytest.mark.parametrize("token", [None, "not-a-token", "gAAAAABinvalidfernet"])
def test_requests_without_a_valid_token_get_401_with_a_json_body(kb, cloud, token):
    admin_project = cloud.project_id("admin")
    answer = kb.call("GET", f"/v1.0/{admin_project}/os-quota-sets/defaults", token)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == 401
    assert answer.headers["WWW-Authenticate"].startswith("Keystone uri=")


@pytest.mark.parametrize("path", ["/", "/healthcheck", "/v1.1/os-quota-sets/defaults",
                                  "/v1.1/no-such-route"])
def test_every_response_carries_a_request_id(kb, path):
    answer = kb.call("GET", path)
    assert answer.headers["x-openstack-request-id"].startswith("req-")


def test_request_ids_differ_between_requests(kb):
    first = kb.call("GET", "/").headers["x-openstack-request-id"]
    second = kb.call("GET", "/").headers["x-openstack-request-id"]
    assert first != second


def test_unknown_route_is_a_json_404(kb, cloud):
    answer = kb.call("GET", "/v1.1/no-such-route", cloud.admin_token())
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == 404


def test_openapi_document_describes_every_route_the_api_serves(kb):
    from kingbird import config
    from kingbird.api.app import ApiServices, create_flask_app
    from kingbird.api.openapi import flask_rule_to_openapi
    from kingbird.runtime import API_FEATURES

    doc = kb.call("GET", "/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    app = create_flask_app(ApiServices(conf=config.load_config([]), db=None), API_FEATURES)
    served = {(method, flask_rule_to_openapi(rule.rule))
              for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    assert served - documented == set(), "routes missing from /openapi.json"
    assert documented - served == set(), "documented routes that are not served"


def test_every_route_answers_the_same_with_a_trailing_slash_whatever_the_method(kb, cloud):
    """python-kingbirdclient 0.2.1 POSTs ``/v1.0/{tenant}/os-sync/``. As the demo's
    member, with made-up ids and a body that is not JSON, every route refuses (a 403
    of its policy, a 404 of its object, a 400 of its body), so nothing changes; a
    path that no route matched would get the router's 404 or 405 instead."""
    doc = kb.call("GET", "/openapi.json").json()
    token, project = cloud.member_token(), cloud.project_id("demo")
    values = {"tenant": project, "project_id": project, "class_name": "slash-class",
              "node": "slash-node"}
    unlike = []
    for template, ops in doc["paths"].items():
        path = re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), str(uuid.uuid4())),
                      template.rstrip("/"))
        for method, op in ops.items():
            caller = token if op.get("security") else None
            answers = [kb.call(method.upper(), variant, caller, data=b"not json")
                       for variant in (path or "/", path + "/")]
            seen = [(a.status_code, a.text if a.status_code >= 400 else "") for a in answers]
            if seen[0] != seen[1] or seen[1][0] == 405:
                unlike.append(f"{method.upper()} {template}: {seen}")
    assert not unlike, "\n".join(unlike)


def test_request_body_over_the_limit_is_refused_with_413(kb, cloud):
    admin_project = cloud.project_id("admin")
    demo_project = cloud.project_id("demo")
    body = '{"quota_set": {"cores": 10, "pad": "' + "x" * 200_000 + '"}}'
    answer = kb.call("PUT", f"/v1.0/{admin_project}/os-quota-sets/{demo_project}",
                     cloud.admin_token(), data=body)
    assert answer.status_code == 413
    limits = kb.call("GET", f"/v1.1/os-quota-sets/{demo_project}", cloud.admin_token())
    assert limits.status_code == 200
