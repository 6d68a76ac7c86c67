"""Checks of os-sync request bodies and the entries they plan: pure, no sockets."""

from __future__ import annotations

import json

import pytest

from kingbird.core import exceptions
from kingbird.sync import validation as sv
from kingbird.sync.validation import Located

REGIONS = ["RegionOne", "RegionThree", "RegionTwo"]


def body(**changes) -> dict:
    resource_set = {"resources": ["k1"], "resource_type": "keypair", "source": "RegionOne",
                    "target": ["RegionTwo"], "force": False}
    resource_set.update(changes)
    return {"resource_set": {k: v for k, v in resource_set.items() if v is not DROP}}


DROP = object()


def refused(payload) -> str:
    with pytest.raises(exceptions.BadRequest) as caught:
        sv.sync_request(payload)
    return caught.value.message


def test_a_resource_set_becomes_one_spec():
    (spec,) = sv.sync_request(body(resources=["k1", "k2"], target=["RegionTwo", "RegionThree"]))
    assert spec.resource_type == "keypair"
    assert spec.resources == ("k1", "k2")
    assert spec.sources == ("RegionOne",)
    assert spec.targets == ("RegionTwo", "RegionThree")
    assert spec.force is False
    assert spec.field == "resource_set"


@pytest.mark.parametrize(("given", "expected"),
                         [(True, True), (False, False), ("True", True), ("False", False)])
def test_force_accepts_booleans_and_the_clients_strings(given, expected):
    (spec,) = sv.sync_request(body(force=given))
    assert spec.force is expected


def test_force_defaults_to_false():
    (spec,) = sv.sync_request(body(force=DROP))
    assert spec.force is False


@pytest.mark.parametrize("given", ["true", "false", "yes", "1", 1, 0, None, [], {}, "TRUE"])
def test_any_other_force_is_refused_naming_the_field(given):
    assert "'resource_set.force'" in refused(body(force=given))


@pytest.mark.parametrize("field", ["resources", "resource_type", "source", "target"])
def test_a_missing_field_is_refused_by_name(field):
    assert f"missing 'resource_set.{field}'" in refused(body(**{field: DROP}))


@pytest.mark.parametrize(("field", "value"), [
    ("resources", []), ("resources", "k1"), ("resources", [""]), ("resources", [3]),
    ("resources", ["x" * 256]), ("source", []), ("source", 5), ("target", []),
    ("target", [None]), ("target", {"a": 1}),
])
def test_a_malformed_field_is_refused_by_name(field, value):
    assert f"'resource_set.{field}'" in refused(body(**{field: value}))


def test_an_unknown_resource_type_is_refused_listing_the_known_ones():
    message = refused(body(resource_type="volume"))
    assert "resource_set.resource_type" in message and "security_group" in message


def test_unexpected_keys_are_refused_by_name():
    assert "colour" in refused(body(colour="red"))
    assert "extra" in refused({**body(), "extra": 1})


@pytest.mark.parametrize("payload", [None, [], "x", {}, {"resource_set": []}])
def test_a_body_without_a_resource_set_object_is_refused(payload):
    assert "resource_set" in refused(payload)


def test_a_single_region_string_is_accepted_for_source_and_target():
    (spec,) = sv.sync_request(body(source="RegionOne", target="RegionTwo"))
    assert spec.targets == ("RegionTwo",)


def test_source_may_be_a_list_tried_in_order():
    (spec,) = sv.sync_request(body(source=["RegionTwo", "RegionOne"], target=["RegionThree"]))
    assert spec.sources == ("RegionTwo", "RegionOne")


def test_a_template_gives_one_spec_per_item_and_names_the_faulty_item():
    item = body()["resource_set"]
    specs = sv.sync_request({"resource_set": {"Sync": [
        item, {**item, "resource_type": "image", "resources": ["img"]}]}})
    assert [s.resource_type for s in specs] == ["keypair", "image"]
    assert specs[1].field == "resource_set.Sync[1]"
    bad = {"resource_set": {"Sync": [item, {**item, "target": []}]}}
    assert "'resource_set.Sync[1].target'" in refused(bad)


@pytest.mark.parametrize("sync", [[], {}, "x"])
def test_an_empty_or_malformed_template_is_refused(sync):
    assert "resource_set.Sync" in refused({"resource_set": {"Sync": sync}})


def test_a_template_mixed_with_a_resource_set_is_refused():
    assert "either 'Sync'" in refused({"resource_set": {"Sync": [body()["resource_set"]],
                                                        "force": True}})


def test_a_job_with_too_many_entries_is_refused():
    names = [f"k{i}" for i in range(sv.MAX_ENTRIES + 1)]
    assert str(sv.MAX_ENTRIES) in refused(body(resources=names))


def test_unknown_regions_are_refused_naming_the_field_and_region():
    specs = sv.sync_request(body(target=["RegionTwo", "Atlantis"]))
    with pytest.raises(exceptions.BadRequest) as caught:
        sv.check_regions(specs, REGIONS)
    assert "'Atlantis'" in caught.value.message and "'resource_set.target'" in caught.value.message
    specs = sv.sync_request(body(source="Nowhere"))
    with pytest.raises(exceptions.BadRequest, match="resource_set.source"):
        sv.check_regions(specs, REGIONS)


def test_a_source_listed_as_a_target_is_refused():
    specs = sv.sync_request(body(target=["RegionTwo", "RegionOne"]))
    with pytest.raises(exceptions.BadRequest, match="'RegionOne' is the source.*target"):
        sv.check_regions(specs, REGIONS)


def test_known_regions_pass():
    sv.check_regions(sv.sync_request(body(target=["RegionTwo", "RegionThree"])), REGIONS)


def test_entries_are_one_per_resource_and_target():
    specs = sv.sync_request(body(resources=["a", "b"], target=["RegionTwo", "RegionThree"],
                                 force=True))
    located = {(0, "a"): Located("RegionOne", "a"), (0, "b"): Located("RegionOne", "b")}
    entries = sv.plan_entries(specs, located)
    assert [(e["resource"], e["target_region"]) for e in entries] == [
        ("a", "RegionTwo"), ("a", "RegionThree"), ("b", "RegionTwo"), ("b", "RegionThree")]
    assert all(e["force"] and e["source_region"] == "RegionOne" for e in entries)


def test_the_same_resource_named_twice_is_copied_once_per_target():
    item = body(resources=["img", "1234"], resource_type="image")["resource_set"]
    specs = sv.sync_request({"resource_set": {"Sync": [item, item]}})
    located = {(i, r): Located("RegionOne", "1234") for i in (0, 1) for r in ("img", "1234")}
    entries = sv.plan_entries(specs, located)
    assert len(entries) == 1 and entries[0]["resource"] == "img"


def test_a_resource_is_copied_from_the_source_it_was_found_in():
    specs = sv.sync_request(body(source=["RegionOne", "RegionTwo"], target=["RegionThree"]))
    entries = sv.plan_entries(specs, {(0, "k1"): Located("RegionTwo", "k1")})
    assert [(e["source_region"], e["target_region"]) for e in entries] == [
        ("RegionTwo", "RegionThree")]


# --- bodies written with Python's booleans, as in the user guide's curl line -------


def test_the_user_guides_body_with_bare_python_booleans_is_read_as_json():
    raw = (b'{"resource_set":{"resources": ["kp1"],"force":True,"resource_type": "keypair",'
           b'"source": "RegionOne","target": ["RegionTwo"]}}')
    assert sv.loads(raw)["resource_set"]["force"] is True
    assert sv.loads(raw.replace(b"True", b"False"))["resource_set"]["force"] is False


def test_booleans_inside_strings_are_left_alone():
    text = '{"a": "True, \\"False\\" True", "b": True, "TrueColor": False}'
    assert json.loads(sv.python_booleans_to_json(text)) == {
        "a": 'True, "False" True', "b": True, "TrueColor": False}


def test_words_merely_starting_with_true_are_not_booleans():
    with pytest.raises(ValueError):
        sv.loads(b'{"force": Trueish}')


def test_nothing_but_booleans_is_rewritten():
    with pytest.raises(ValueError):
        sv.loads(b'{"force": None}')
    with pytest.raises(ValueError):
        sv.loads(b"__import__('os').system('true')")


def test_plain_json_is_parsed_unchanged():
    assert sv.loads(b'{"a": [true, false, "True"]}') == {"a": [True, False, "True"]}
