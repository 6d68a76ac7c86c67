"""``POST .../os-dr/plans/{plan}/restore-points`` takes no content: no body or ``{}``
(the published schema), nothing else; served by the real route over Flask's test
client, with the headers auth_token would set."""

from __future__ import annotations

import pytest

from kingbird import config, runtime
from kingbird.api import openapi
from kingbird.api.app import ApiServices, create_flask_app
from kingbird.dr import plan_repository as plans_db

PROJECT = "c" * 32
MEMBER = {"X-User-Id": "u1", "X-Project-Id": PROJECT, "X-Roles": "member,reader"}


@pytest.fixture
def app_and_plan(tx):
    services = ApiServices(conf=config.load_config([]), db=tx)
    app = create_flask_app(services, runtime.API_FEATURES)
    with tx() as session:
        plan = plans_db.create_plan(session, {
            "project_id": PROJECT, "user_id": "u1", "name": "p", "description": None,
            "method": "snapshot-backup", "home_region": "RegionOne",
            "recovery_region": "RegionTwo", "servers": ["s1"], "interval": 3600,
            "retention": 3, "trust_id": "t1"})
    return app.test_client(), plan["id"], tx


def _requested(tx, plan_id: str) -> bool:
    with tx() as session:
        return plans_db.find_plan(session, plan_id)["restore_point_requested_at"] is not None


@pytest.mark.parametrize("data,content_type,status,message", [
    ('{"restore_point": {}}', "application/json", 400,
     "unexpected keys in request body: 'restore_point'"),
    ('{"name": "x", "dry_run": true}', "application/json", 400,
     "unexpected keys in request body: 'dry_run', 'name'"),
    ("[]", "application/json", 400, "request body must be an object"),
    ("{}", "text/plain", 415, "content type 'text/plain' is not supported"),
    ("a=b", "application/x-www-form-urlencoded", 415, "is not supported"),
])
def test_a_restore_point_request_with_content_is_refused(app_and_plan, data, content_type,
                                                         status, message):
    client, plan_id, tx = app_and_plan
    answer = client.post(f"/v1.1/os-dr/plans/{plan_id}/restore-points", data=data,
                         headers={**MEMBER, "Content-Type": content_type})
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert message in answer.get_json()["error"]["message"]
    assert not _requested(tx, plan_id)


@pytest.mark.parametrize("data", ["", "{}"])
def test_a_restore_point_is_requested_without_a_body_or_with_an_empty_object(app_and_plan,
                                                                            data):
    client, plan_id, tx = app_and_plan
    answer = client.post(f"/v1.1/os-dr/plans/{plan_id}/restore-points", data=data,
                         headers={**MEMBER, "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert _requested(tx, plan_id)


def test_the_published_schema_allows_no_key():
    op = next(o for o in openapi.operations()
              if o.method.upper() == "POST" and o.path.endswith("/restore-points"))
    assert op.request["additionalProperties"] is False and not op.request.get("properties")
