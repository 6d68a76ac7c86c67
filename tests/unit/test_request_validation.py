"""Request bodies checked against the schemas /openapi.json publishes
(kingbird.api.validation): how a refusal names the field, OpenAPI's ``nullable``,
strict integers, ``x-message`` and the choice among ``oneOf`` alternatives."""

from __future__ import annotations

import jsonschema
import pytest

from kingbird import runtime  # noqa: F401 (registers every route's description)
from kingbird.api import openapi, validation
from kingbird.core import exceptions


def refused(schema: dict, body) -> str:
    with pytest.raises(exceptions.BadRequest) as caught:
        validation.checked(schema, body)
    return caught.value.message


ITEM = {"type": "object", "required": ["target"], "additionalProperties": False,
        "properties": {"target": {"type": "array", "minItems": 1,
                                  "items": {"type": "string"}}}}
WRAPPED = {"type": "object", "required": ["set"], "additionalProperties": False,
           "properties": {"set": {"type": "object", "properties": {
               "items": {"type": "array", "items": ITEM}}}}}


def test_the_message_names_the_field_as_a_path_into_the_body():
    body = {"set": {"items": [{"target": ["a"]}, {"target": [3]}]}}
    assert refused(WRAPPED, body) == "'set.items[1].target[0]' must be a string, got 3"
    assert refused(WRAPPED, {"set": {"items": [{}]}}) == \
        "missing 'set.items[0].target' in request body"


def test_refusals_at_the_top_speak_of_the_request_body():
    assert refused(WRAPPED, [1]) == "request body must be an object with 'set'"
    assert refused(WRAPPED, {"set": {}, "x": 1, "b": 2}) == \
        "unexpected keys in request body: 'b', 'x'; allowed: set"


def test_keys_missing_and_unexpected_in_one_object_are_reported_together():
    assert refused(WRAPPED, {"other": 1}) == (
        "missing 'set' in request body; unexpected keys in request body: 'other'; "
        "allowed: set")


def test_the_shallowest_fault_is_reported_first():
    body = {"set": {"items": [{"target": [3]}]}, "extra": 1}
    assert refused(WRAPPED, body).startswith("unexpected keys in request body")


@pytest.mark.parametrize("value", [True, False, 1.0, 1.5, "1", None])
def test_integers_are_strict(value):
    assert "must be an integer" in refused({"type": "integer"}, value)


def test_a_valid_body_is_returned_as_given():
    body = {"set": {"items": [{"target": ["a"]}]}}
    assert validation.checked(WRAPPED, body) is body


def test_nullable_admits_null_and_nothing_else_new():
    schema = {"type": "object", "properties": {
        "text": {"type": "string", "nullable": True},
        "kind": {"type": "string", "enum": ["a", "b"], "nullable": True},
        "either": {"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True},
        "plain": {"type": "string"}}}
    validation.checked(schema, {"text": None, "kind": None, "either": None})
    assert refused(schema, {"text": 1}) == "'text' must be a string or null, got 1"
    assert "one of a, b" in refused(schema, {"kind": "c"})
    assert "'either'" in refused(schema, {"either": []})
    assert refused(schema, {"plain": None}) == "'plain' must be a string, got None"


def test_x_message_words_a_schemas_own_failures():
    schema = {"type": "object", "properties": {
        "names": {"type": "array", "minItems": 1, "uniqueItems": True,
                  "items": {"type": "string", "x-message": "'$parent' holds names, not $value"},
                  "x-message": {"uniqueItems": "'$field' names $duplicate twice"}}}}
    assert refused(schema, {"names": ["a", 7]}) == "'names' holds names, not 7"
    assert refused(schema, {"names": ["a", "b", "a"]}) == "'names' names a twice"
    # keywords the mapping does not name keep the standard wording
    assert refused(schema, {"names": []}) == "'names' must be a non-empty list"


BRANCHES = {"type": "object", "properties": {"form": {
    "oneOf": [{"type": "string", "minLength": 2},
              {"type": "object", "required": ["one"], "additionalProperties": False,
               "properties": {"one": {"type": "integer"}}},
              {"type": "object", "required": ["many"], "additionalProperties": False,
               "properties": {"many": {"type": "array"}}}],
    "x-message": "'$field' must be a name, {one} or {many}"}}}


def test_a_failed_one_of_reports_the_alternative_meant_by_type_or_keys():
    assert refused(BRANCHES, {"form": "x"}) == "'form' must have at least 2 characters"
    assert refused(BRANCHES, {"form": {"one": "1"}}) == \
        "'form.one' must be an integer, got '1'"
    assert refused(BRANCHES, {"form": {"many": [], "x": 1}}).startswith(
        "unexpected keys in 'form': 'x'")


@pytest.mark.parametrize("form", [5, {}, {"one": 1, "many": []}, None])
def test_an_ambiguous_or_foreign_one_of_uses_its_message(form):
    assert refused(BRANCHES, {"form": form}) == "'form' must be a name, {one} or {many}"


def test_every_published_request_schema_is_valid_json_schema():
    requests = [op.request for op in openapi.operations() if op.request is not None]
    assert len(requests) > 10
    for schema in requests:
        jsonschema.Draft4Validator.check_schema(validation.json_schema(schema))
