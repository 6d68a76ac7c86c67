"""The checks every route takes (kingbird.api.routing): path parameters and query
arguments that no id or name holds are a 400, a ``<uuid:...>`` parameter that is no
UUID a 404, both naming it, before the handler runs; and every route answers with
and without a trailing slash, whatever the method. On a Flask test client."""

from __future__ import annotations

import uuid

import pytest
from flask import Blueprint

from kingbird import config
from kingbird.api.app import ApiFeature, ApiServices, create_flask_app
from kingbird.api.responses import json_response
from kingbird.api.routing import both_versions

calls: list[dict] = []


def show(thing_id: str, tenant: str | None = None):
    calls.append({"thing_id": thing_id, "tenant": tenant})
    return json_response({"thing": thing_id})


def create(tenant: str | None = None):
    calls.append({"tenant": tenant})
    return json_response({"created": True}, 201)


def named(name: str, tenant: str | None = None):
    calls.append({"name": name})
    return json_response({"name": name})


bp = Blueprint("things", __name__)
both_versions(bp, "/things/<uuid:thing_id>", show, ["GET", "DELETE"])
both_versions(bp, "/things", create, ["POST"])
both_versions(bp, "/named/<name>", named, ["GET"])


@pytest.fixture
def client():
    calls.clear()
    app = create_flask_app(ApiServices(conf=config.load_config([]), db=None),
                           [ApiFeature("things", (bp,))])
    return app.test_client()


def test_a_uuid_parameter_reaches_the_handler_as_given(client):
    thing = str(uuid.uuid4()).upper()
    assert client.get(f"/v1.1/things/{thing}").json == {"thing": thing}


@pytest.mark.parametrize("value", ["abc", "..%3B", "%ED%A0%80", "1" * 32])
def test_a_uuid_parameter_that_is_no_uuid_is_a_404_naming_it(client, value):
    answer = client.get(f"/v1.1/things/{value}")
    assert answer.status_code == 404
    assert answer.json["error"]["message"].startswith("thing_id ")
    assert calls == []


@pytest.mark.parametrize("path", ["/v1.1/things/%00", "/v1.1/named/a%00b", "/v1.1/named/%0A",
                                  "/v1.1/named/x?q=%00", "/v1.1/named/x?q%7F=1"])
def test_a_control_character_in_a_path_or_a_query_is_a_400_naming_it(client, path):
    answer = client.get(path)
    assert answer.status_code == 400
    assert "holds" in answer.json["error"]["message"]
    assert calls == []


def test_every_route_answers_with_and_without_a_trailing_slash(client):
    thing = str(uuid.uuid4())
    for path in (f"/v1.1/things/{thing}", f"/v1.0/t/things/{thing}"):
        assert client.get(path).status_code == client.get(path + "/").status_code == 200
        assert client.delete(path + "/").status_code == 200
    assert client.post("/v1.1/things/").status_code == 201
    assert client.post("/v1.0/t/things/").status_code == 201
    assert calls[-1] == {"tenant": "t"}
