"""Request bodies checked against the schemas /openapi.json publishes
(kingbird.api.validation): how a refusal names the field, OpenAPI's ``nullable``,
strict integers, ``x-message`` and the choice among ``oneOf`` alternatives."""

from __future__ import annotations

import json

import flask
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


NAME = {"type": "object", "properties": {"name": {
    "type": "string", "pattern": "^[a-z]+$", "x-message": "'$field' must be a-z"}}}


def test_a_pattern_ends_at_the_end_of_the_text_not_before_a_final_newline():
    # ECMA-262's "$", which /openapi.json readers apply; Python's alone would admit "\n".
    assert validation.checked(NAME, {"name": "gold"}) == {"name": "gold"}
    assert refused(NAME, {"name": "gold\n"}) == "'name' must be a-z"
    assert validation.json_schema({"pattern": r"^a\$"}) == {"pattern": r"^a\$"}


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


# --- what no database can store, and path parameters ------------------------------------

def read(raw: bytes):
    with flask.Flask("t").test_request_context(data=raw, content_type="application/json"):
        return validation.json_body()


def body_refused(raw: bytes) -> str:
    with pytest.raises(exceptions.BadRequest) as caught:
        read(raw)
    return caught.value.message


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"a": {"name": "x\\ud800"}}', "'a.name' is not valid text: it holds a lone UTF-16"),
    (b'{"a": ["ok", "\\udfff"]}', "'a[1]' is not valid text"),
    (b'{"a": "x\\u0000y"}', "'a' is not valid text: it holds a NUL character"),
    (b'"\\u0000"', "request body is not valid text"),
    (b'{"a": {"k\\u0000": 1}}', "a key of 'a' is not valid text: it holds a NUL"),
    (b'{"v": 18446744073709551616}', "'v' is beyond the 64-bit integer range"),
    (b'{"v": -9223372036854775809}', "'v' is beyond the 64-bit integer range"),
    (b'{"v": [1e400]}', "'v[0]' must be a finite number, got inf"),
    (b'{"v": NaN}', "'v' must be a finite number, got nan"),
    (b'{"v": -Infinity}', "'v' must be a finite number"),
])
def test_a_body_holding_what_no_database_stores_is_refused_naming_the_field(raw, message):
    assert body_refused(raw).startswith(message)


def test_text_numbers_and_booleans_any_database_stores_pass():
    body = {"name": "\u202ekp\U0001f600 tab\tnew\nline", "n": [2**63 - 1, -2**63, 1.5],
            "yes": True, "none": None}
    assert read(json.dumps(body).encode()) == body


@pytest.mark.parametrize("value", ["a\x00", "a\nb", "\x7f", "\ud800"])
def test_a_path_parameter_with_a_control_character_or_a_surrogate_is_a_400(value):
    with pytest.raises(exceptions.BadRequest) as caught:
        validation.path_text(value, "job_id")
    assert caught.value.message.startswith("job_id ")


@pytest.mark.parametrize("value", ["abc", "..;", "0" * 32, "e1a5dba3-2e0e-4b8c-9d6c-4a1b2c3d4e5"])
def test_an_id_that_is_no_uuid_is_a_404(value):
    with pytest.raises(exceptions.NotFound) as caught:
        validation.uuid_id(value, "plan_id")
    assert "plan_id" in caught.value.message and "not a UUID" in caught.value.message


def _integers(schema, path=""):
    if not isinstance(schema, dict):
        return
    kinds = schema.get("type")
    if kinds == "integer" or isinstance(kinds, list) and "integer" in kinds:
        yield path, schema
    for key, sub in schema.items():
        if key in ("properties", "patternProperties"):
            for name, item in sub.items():
                yield from _integers(item, f"{path}.{name}")
        elif key in ("items", "additionalProperties", "not"):
            yield from _integers(sub, f"{path}[]")
        elif key in ("oneOf", "anyOf", "allOf"):
            for item in sub:
                yield from _integers(item, path)


def test_every_integer_of_a_request_body_is_bounded_within_the_integer_columns():
    """Kingbird's integer columns are INTEGER (32 bits signed) on every database."""
    found = [(op.method, op.path, field, schema) for op in openapi.operations()
             if op.request is not None for field, schema in _integers(op.request)]
    assert len(found) > 10
    unbounded = [f"{m} {p} {f}" for m, p, f, s in found
                 if "minimum" not in s or "maximum" not in s or s["maximum"] > 2**31 - 1]
    assert unbounded == []
