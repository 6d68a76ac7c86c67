"""``kingbird network ...`` in-process over a fake transport: options -> requests,
answers -> output, failures -> one line and an exit status."""

from __future__ import annotations

import json

import _cli_harness
from _fake_kingbird import PROJECT

BASE = f"/{PROJECT}"
NET = {"id": "n1", "name": "bp", "project_id": PROJECT, "cidr": "198.51.100.0/24",
       "status": "BUILD", "error": None, "gateway_regions": ["RegionOne"],
       "reserved_addresses": 8, "regions": {
           "RegionOne": {"network_id": None, "subnet_id": None, "gateway_ip": "198.51.100.1",
                         "allocation_pools": [{"start": "198.51.100.2",
                                               "end": "198.51.100.124"}],
                         "status": "BUILD", "error": None}}}

# The shared fixtures, found by pytest under these names.
transport = _cli_harness.transport
run = _cli_harness.run
restore_logging = _cli_harness.restore_logging


def test_network_create_sends_the_options_and_shows_each_region(run, transport):
    transport.answer("POST", f"{BASE}/os-global-networks", 202, {"global_network": NET})
    status, out, _ = run("network", "create", "bp", "--cidr", "198.51.100.0/24",
                         "--region", "RegionOne", "--region", "RegionTwo",
                         "--gateway-region", "RegionOne", "--reserved-addresses", "4",
                         "-f", "json")
    assert status == 0
    assert transport.sent[0].body == {"global_network": {
        "name": "bp", "cidr": "198.51.100.0/24", "regions": ["RegionOne", "RegionTwo"],
        "gateway_regions": ["RegionOne"], "reserved_addresses": 4}}
    shown = json.loads(out)
    assert shown["status"] == "BUILD"
    assert "pools=198.51.100.2-198.51.100.124" in shown["region RegionOne"]


def test_network_list_and_port_list(run, transport):
    transport.answer("GET", f"{BASE}/os-global-networks", 200, {"global_networks": [NET]})
    transport.answer("GET", f"{BASE}/os-global-networks/n1/ports", 200, {"ports": [{
        "region": "RegionOne", "port_id": "p1", "mac_address": "fa:16:3e:00:00:01",
        "fixed_ips": ["198.51.100.2"], "source": "polled", "status": "ACTIVE",
        "shadows": {"RegionTwo": "s1"}, "error": None}]})
    status, out, _ = run("network", "list", "-f", "json")
    assert json.loads(out) == [{"ID": "n1", "Name": "bp", "CIDR": "198.51.100.0/24",
                                "Regions": "RegionOne", "Status": "BUILD"}]
    status, out, _ = run("network", "port", "list", "n1", "-f", "json")
    assert status == 0 and json.loads(out)[0]["Shadows"] == '{"RegionTwo": "s1"}'


def test_attach_names_the_region_and_port(run, transport):
    transport.answer("POST", f"{BASE}/os-global-networks/n1/ports", 202, {"port": {
        "region": "RegionTwo", "port_id": "p2", "source": "attached", "status": "PENDING",
        "shadows": {}}})
    status, _, _ = run("network", "port", "attach", "n1", "p2", "--region", "RegionTwo")
    assert status == 0
    assert transport.sent[0].body == {"port": {"region": "RegionTwo", "port_id": "p2"}}


def test_delete_reports_n_of_m_failed(run, transport):
    transport.answer("DELETE", f"{BASE}/os-global-networks/n1", 202, {"global_network": NET})
    transport.answer("DELETE", f"{BASE}/os-global-networks/n2", 409, {"error": {
        "code": 409, "title": "Conflict", "message": "global network n2 still has 1 port(s)"}})
    status, _, err = run("network", "delete", "n1", "n2")
    assert status == 1
    assert "1 of 2 global networks failed to delete" in err
    assert "still has 1 port(s)" in err


def test_vip_create_parses_region_port_pairs_and_refuses_bad_ones(run, transport):
    transport.answer("POST", f"{BASE}/os-global-networks/n1/vips", 202, {"vip": {
        "id": "v1", "ip_address": "198.51.100.247", "status": "BUILD", "reservations": {},
        "ports": [{"region": "RegionOne", "port_id": "p1"}]}})
    status, out, _ = run("network", "vip", "create", "n1", "--port", "RegionOne:p1",
                         "-f", "json")
    assert status == 0 and json.loads(out)["ports"] == "RegionOne:p1"
    assert transport.sent[0].body == {"vip": {"ports": [{"region": "RegionOne",
                                                         "port_id": "p1"}]}}
    status, _, err = run("network", "vip", "create", "n1", "--port", "p1")
    assert status == 1 and "<region>:<port-id>" in err


def test_rule_create_splits_the_port_range(run, transport):
    transport.answer("POST", f"{BASE}/os-global-security-group-rules", 202, {
        "global_security_group_rule": {
            "id": "r1", "region": "RegionTwo", "security_group_id": "g2",
            "direction": "ingress", "remote_region": "RegionOne", "remote_group_id": "g1",
            "status": "BUILD", "protocol": "tcp", "port_range_min": 5432,
            "port_range_max": 5432, "expanded": []}})
    status, _, _ = run("network", "rule", "create", "--region", "RegionTwo",
                       "--security-group", "g2", "--protocol", "tcp", "--port-range", "5432",
                       "--remote-region", "RegionOne", "--remote-group", "g1")
    assert status == 0
    assert transport.sent[0].body["global_security_group_rule"] == {
        "region": "RegionTwo", "security_group_id": "g2", "direction": "ingress",
        "ethertype": "IPv4", "remote_region": "RegionOne", "remote_group_id": "g1",
        "protocol": "tcp", "port_range_min": 5432, "port_range_max": 5432}


def test_router_create_needs_exactly_one_kind_of_transit(run, transport):
    transport.answer("POST", f"{BASE}/os-global-routers", 202, {"global_router": {
        "id": "g", "name": "l3", "status": "BUILD", "subnets": {"RegionOne": "s1",
                                                              "RegionTwo": "s2"}}})
    status, _, _ = run("network", "router", "create", "l3", "--subnet", "RegionOne:s1",
                       "--subnet", "RegionTwo:s2", "--transit-network", "n1")
    assert status == 0
    assert transport.sent[0].body == {"global_router": {
        "name": "l3", "transit": {"global_network_id": "n1"},
        "subnets": {"RegionOne": "s1", "RegionTwo": "s2"}}}
    status, _, err = run("network", "router", "create", "--subnet", "RegionOne:s1")
    assert status == 2 and "--transit" in err
