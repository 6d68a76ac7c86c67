"""Sync templates: YAML or JSON in, the API's ``Sync`` entries out, mistakes named."""

from __future__ import annotations

import json

import pytest

from kingbird.cli.v1.sync import TemplateError, load_template, parse_template

ENTRY = {"resource_type": "keypair", "resources": ["kp1"], "source": "RegionOne",
         "target": ["RegionTwo", "RegionThree"], "force": True}


def test_yaml_template():
    text = """
Sync:
  - resource_type: keypair
    resources: [kp1]
    source: RegionOne
    target:
      - RegionTwo
      - RegionThree
    force: true
  - resource_type: flavor
    resources: m1.tiny
    source: RegionOne
    target: RegionTwo
"""
    assert parse_template(text) == [ENTRY, {
        "resource_type": "flavor", "resources": ["m1.tiny"], "source": "RegionOne",
        "target": ["RegionTwo"]}]


def test_json_template_and_the_apis_own_body_are_read_alike():
    assert parse_template(json.dumps({"Sync": [ENTRY]})) == [ENTRY]
    assert parse_template(json.dumps({"resource_set": {"Sync": [ENTRY]}})) == [ENTRY]


def test_json_indented_with_tabs_which_yaml_refuses():
    text = '{\n\t"Sync": [\n\t\t' + json.dumps(ENTRY) + "\n\t]\n}"
    assert parse_template(text) == [ENTRY]


def test_python_kingbirdclient_region_keys_are_accepted():
    old = {"resource_type": "keypair", "resources": ["kp1"], "source_region": "RegionOne",
           "target_region": ["RegionTwo"]}
    [entry] = parse_template(json.dumps({"Sync": [old]}))
    assert (entry["source"], entry["target"]) == ("RegionOne", ["RegionTwo"])


@pytest.mark.parametrize(("text", "message"), [
    ("Sync: [\n", "t.yaml: not valid YAML or JSON"),
    ("resources: [kp1]", "t.yaml: expected a non-empty list under 'Sync'"),
    ("Sync: []", "expected a non-empty list under 'Sync'"),
    ("Sync: [keypair]", "t.yaml: Sync[1]: expected a mapping"),
    ("Sync:\n  - {resource_type: keypair, resources: [a], source: R1, target: [R2]}\n"
     "  - {resource_type: keypair, resources: [a], source: R1}", "Sync[2]: 'target' is missing"),
    ("Sync:\n  - {resource_type: keypair, resources: [], source: R1, target: [R2]}",
     "Sync[1]: 'resources' is missing"),
])
def test_a_bad_template_is_named_with_the_entry_at_fault(text, message):
    with pytest.raises(TemplateError) as caught:
        parse_template(text, "t.yaml")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_yaml_tags_are_not_executed():
    with pytest.raises(TemplateError):
        parse_template("Sync: !!python/object/apply:os.system ['true']")


def test_an_unreadable_file_is_a_template_error(tmp_path):
    with pytest.raises(TemplateError, match="cannot read"):
        load_template(str(tmp_path / "missing.yaml"))
