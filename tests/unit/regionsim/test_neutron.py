"""Neutron of regionsim: each route's rules, through Flask's test client (no sockets)."""

from __future__ import annotations

import pytest

from regionsim.app import build_flask_app
from regionsim.region import Region
from regionsim.services import neutron

N = "/networking/v2.0"


def headers(project: str, admin: bool = False) -> dict:
    return {"X-User-Id": f"user-{project}", "X-Project-Id": project,
            "X-Roles": "admin,member" if admin else "member"}


ADMIN = headers("admin-project", admin=True)
P1 = headers("p1")
P2 = headers("p2")


@pytest.fixture
def region():
    return Region(name="RegionOne")


@pytest.fixture
def client(region):
    return build_flask_app(region).test_client()


def ok(resp, status=200):
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.get_json()


def error(resp, status: int, type_: str) -> str:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()["NeutronError"]
    assert body["type"] == type_, body
    assert body["detail"] == ""
    return body["message"]


def make_net(client, h=P1, **attrs):
    return ok(client.post(f"{N}/networks", json={"network": attrs}, headers=h), 201)["network"]


def make_subnet(client, net_id, cidr="10.0.0.0/24", h=P1, **attrs):
    body = {"subnet": {"network_id": net_id, "cidr": cidr, "ip_version": 4, **attrs}}
    return ok(client.post(f"{N}/subnets", json=body, headers=h), 201)["subnet"]


def make_port(client, net_id, h=P1, **attrs):
    return ok(client.post(f"{N}/ports", json={"port": {"network_id": net_id, **attrs}},
                          headers=h), 201)["port"]


# -- versions and extensions ---------------------------------------------------

def test_version_document_points_at_v2_0(client):
    body = ok(client.get("/networking/"))
    assert body["versions"][0]["id"] == "v2.0"
    assert body["versions"][0]["links"][0]["href"].endswith("/networking/v2.0/")


def test_extensions_list_names_quota_details(client):
    aliases = {e["alias"] for e in ok(client.get(f"{N}/extensions", headers=P1))["extensions"]}
    assert {"quotas", "quota_details", "router", "provider", "security-group"} <= aliases


def test_json_suffix_is_accepted_like_neutron(client):
    net = make_net(client, name="n")
    assert ok(client.get(f"{N}/networks/{net['id']}.json", headers=P1))["network"]["name"] == "n"
    assert ok(client.get(f"{N}/networks.json", headers=P1))["networks"]


# -- networks ------------------------------------------------------------------

def test_network_defaults_and_provider_attributes_hidden_from_members(client):
    net = make_net(client, name="n1")
    assert net["project_id"] == net["tenant_id"] == "p1"
    assert net["mtu"] == 1450 and net["shared"] is False and net["router:external"] is False
    assert net["status"] == "ACTIVE" and net["subnets"] == []
    assert "provider:network_type" not in net
    seen = ok(client.get(f"{N}/networks/{net['id']}", headers=ADMIN))["network"]
    assert seen["provider:network_type"] == "vxlan"
    assert isinstance(seen["provider:segmentation_id"], int)


def test_member_cannot_set_provider_shared_or_external(client):
    for attr, value in (("provider:network_type", "vlan"), ("shared", True),
                        ("router:external", True)):
        resp = client.post(f"{N}/networks", json={"network": {attr: value}}, headers=P1)
        error(resp, 403, "PolicyNotAuthorized")


def test_duplicate_vxlan_segment_is_409(client):
    attrs = {"provider:network_type": "vxlan", "provider:segmentation_id": 4242}
    make_net(client, ADMIN, **attrs)
    resp = client.post(f"{N}/networks", json={"network": attrs}, headers=ADMIN)
    assert "4242" in error(resp, 409, "TunnelIdInUse")


def test_vlan_needs_physical_network(client):
    resp = client.post(f"{N}/networks", json={"network": {
        "provider:network_type": "vlan", "provider:segmentation_id": 10}}, headers=ADMIN)
    error(resp, 400, "InvalidInput")
    net = make_net(client, ADMIN, **{"provider:network_type": "vlan",
                                     "provider:physical_network": "physnet1",
                                     "provider:segmentation_id": 10})
    assert net["mtu"] == 1500


def test_tenants_see_own_shared_and_external_networks_only(client):
    mine = make_net(client, P1, name="mine")
    make_net(client, P2, name="theirs")
    shared = make_net(client, ADMIN, name="shared", shared=True)
    names = {n["name"] for n in ok(client.get(f"{N}/networks", headers=P1))["networks"]}
    assert names == {"mine", "shared"}
    assert len(ok(client.get(f"{N}/networks", headers=ADMIN))["networks"]) == 3
    theirs = ok(client.get(f"{N}/networks?name=theirs", headers=ADMIN))["networks"][0]
    error(client.get(f"{N}/networks/{theirs['id']}", headers=P1), 404, "NetworkNotFound")
    error(client.put(f"{N}/networks/{shared['id']}", json={"network": {"name": "x"}},
                     headers=P1), 403, "PolicyNotAuthorized")
    assert ok(client.get(f"{N}/networks/{mine['id']}", headers=P1))["network"]["name"] == "mine"


def test_admin_creates_network_for_another_project_member_cannot(client):
    net = make_net(client, ADMIN, project_id="p2")
    assert net["project_id"] == "p2"
    resp = client.post(f"{N}/networks", json={"network": {"project_id": "p2"}}, headers=P1)
    assert resp.status_code == 400


def test_network_delete_refused_while_ports_exist(client):
    net = make_net(client)
    make_subnet(client, net["id"])
    port = make_port(client, net["id"])
    error(client.delete(f"{N}/networks/{net['id']}", headers=P1), 409, "NetworkInUse")
    ok(client.delete(f"{N}/ports/{port['id']}", headers=P1), 204)
    ok(client.delete(f"{N}/networks/{net['id']}", headers=P1), 204)
    assert ok(client.get(f"{N}/subnets", headers=P1))["subnets"] == []


def test_unknown_attribute_is_400(client):
    resp = client.post(f"{N}/networks", json={"network": {"colour": "red"}}, headers=P1)
    assert "colour" in error(resp, 400, "HTTPBadRequest")


# -- subnets -------------------------------------------------------------------

def test_subnet_default_gateway_and_pool(client):
    subnet = make_subnet(client, make_net(client)["id"])
    assert subnet["gateway_ip"] == "10.0.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert subnet["enable_dhcp"] is True and subnet["dns_nameservers"] == []


def test_subnet_without_gateway_pools_whole_range(client):
    subnet = make_subnet(client, make_net(client)["id"], gateway_ip=None)
    assert subnet["gateway_ip"] is None
    assert subnet["allocation_pools"] == [{"start": "10.0.0.1", "end": "10.0.0.254"}]


def test_subnet_pools_are_validated(client):
    net = make_net(client)

    def create(**attrs):
        body = {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4,
                           **attrs}}
        return client.post(f"{N}/subnets", json=body, headers=P1)

    error(create(allocation_pools=[{"start": "10.0.0.10", "end": "10.0.1.5"}]), 400,
          "OutOfBoundsAllocationPool")
    error(create(allocation_pools=[{"start": "10.0.0.10", "end": "10.0.0.20"},
                                   {"start": "10.0.0.15", "end": "10.0.0.30"}]), 400,
          "OverlappingAllocationPools")
    error(create(allocation_pools=[{"start": "10.0.0.1", "end": "10.0.0.20"}]), 409,
          "GatewayConflictWithAllocationPools")
    subnet = ok(create(allocation_pools=[{"start": "10.0.0.100", "end": "10.0.0.110"}]), 201)
    assert subnet["subnet"]["allocation_pools"] == [{"start": "10.0.0.100",
                                                     "end": "10.0.0.110"}]


def test_overlapping_subnets_on_one_network_are_refused(client):
    net = make_net(client)
    make_subnet(client, net["id"], "10.0.0.0/24")
    body = {"subnet": {"network_id": net["id"], "cidr": "10.0.0.128/25", "ip_version": 4}}
    error(client.post(f"{N}/subnets", json=body, headers=P1), 400, "InvalidInput")


def test_ipv6_subnet_is_accepted(client):
    net = make_net(client)
    body = {"subnet": {"network_id": net["id"], "cidr": "fd00::/64", "ip_version": 6}}
    subnet = ok(client.post(f"{N}/subnets", json=body, headers=P1), 201)["subnet"]
    assert subnet["gateway_ip"] == "fd00::1"
    port = make_port(client, net["id"])
    assert port["fixed_ips"][0]["ip_address"] == "fd00::2"


def test_subnet_cidr_is_read_only(client):
    subnet = make_subnet(client, make_net(client)["id"])
    resp = client.put(f"{N}/subnets/{subnet['id']}", json={"subnet": {"cidr": "10.1.0.0/24"}},
                      headers=P1)
    assert resp.status_code == 400


def test_subnet_in_use_cannot_be_deleted(client):
    net = make_net(client)
    subnet = make_subnet(client, net["id"])
    make_port(client, net["id"])
    error(client.delete(f"{N}/subnets/{subnet['id']}", headers=P1), 409, "SubnetInUse")


# -- ports ---------------------------------------------------------------------

def test_ports_get_addresses_in_order_and_fa163e_macs(client):
    net = make_net(client)
    make_subnet(client, net["id"])
    first, second = make_port(client, net["id"]), make_port(client, net["id"])
    assert first["fixed_ips"][0]["ip_address"] == "10.0.0.2"
    assert second["fixed_ips"][0]["ip_address"] == "10.0.0.3"
    assert first["mac_address"].startswith("fa:16:3e:")
    assert first["mac_address"] != second["mac_address"]
    assert first["status"] == "DOWN"


def test_explicit_ip_duplicates_and_outsiders(client):
    net = make_net(client)
    subnet = make_subnet(client, net["id"])
    port = make_port(client, net["id"], fixed_ips=[{"ip_address": "10.0.0.50"}])
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.0.0.50"}]
    resp = client.post(f"{N}/ports", json={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "10.0.0.50"}]}}, headers=P1)
    error(resp, 409, "IpAddressAlreadyAllocated")
    resp = client.post(f"{N}/ports", json={"port": {
        "network_id": net["id"], "fixed_ips": [{"ip_address": "192.168.9.9"}]}}, headers=P1)
    error(resp, 400, "InvalidIpForNetwork")
    resp = client.post(f"{N}/ports", json={"port": {
        "network_id": net["id"], "fixed_ips": [{"subnet_id": subnet["id"],
                                                "ip_address": "10.0.0.1"}]}}, headers=P1)
    error(resp, 409, "IpAddressAlreadyAllocated")


def test_non_owner_of_shared_network_cannot_choose_ip_or_mac(client):
    net = make_net(client, ADMIN, shared=True)
    make_subnet(client, net["id"], h=ADMIN)
    for attrs in ({"fixed_ips": [{"ip_address": "10.0.0.9"}]},
                  {"mac_address": "fa:16:3e:00:00:01"}):
        resp = client.post(f"{N}/ports", json={"port": {"network_id": net["id"], **attrs}},
                           headers=P1)
        error(resp, 403, "PolicyNotAuthorized")
    port = make_port(client, net["id"])
    assert port["project_id"] == "p1"


def test_duplicate_mac_on_a_network_is_409(client):
    net = make_net(client, ADMIN)
    make_port(client, net["id"], ADMIN, mac_address="fa:16:3e:aa:bb:cc")
    resp = client.post(f"{N}/ports", json={"port": {"network_id": net["id"],
                                                    "mac_address": "fa:16:3e:aa:bb:cc"}},
                       headers=ADMIN)
    error(resp, 409, "MacAddressInUse")
    other = make_net(client, ADMIN)
    make_port(client, other["id"], ADMIN, mac_address="fa:16:3e:aa:bb:cc")


def test_pool_exhaustion_is_ip_address_generation_failure(client):
    net = make_net(client)
    make_subnet(client, net["id"], "10.0.0.0/30")
    make_port(client, net["id"])
    resp = client.post(f"{N}/ports", json={"port": {"network_id": net["id"]}}, headers=P1)
    error(resp, 409, "IpAddressGenerationFailure")


def test_binding_attributes_are_admin_only(client):
    net = make_net(client)
    resp = client.post(f"{N}/ports", json={"port": {"network_id": net["id"],
                                                    "binding:host_id": "h1"}}, headers=P1)
    error(resp, 403, "PolicyNotAuthorized")
    port = make_port(client, net["id"], ADMIN, project_id="p1", device_id="vm",
                     **{"binding:host_id": "h1", "binding:profile": {"k": "v"}})
    assert port["binding:host_id"] == "h1" and port["status"] == "ACTIVE"
    seen = ok(client.get(f"{N}/ports/{port['id']}", headers=P1))["port"]
    assert "binding:host_id" not in seen and seen["binding:vnic_type"] == "normal"


def test_port_gets_default_security_group_created_lazily(client):
    net = make_net(client)
    port = make_port(client, net["id"])
    groups = ok(client.get(f"{N}/security-groups", headers=P1))["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    assert port["security_groups"] == [groups[0]["id"]]
    off = make_port(client, net["id"], port_security_enabled=False)
    assert off["security_groups"] == []
    resp = client.post(f"{N}/ports", json={"port": {
        "network_id": net["id"], "port_security_enabled": False,
        "security_groups": [groups[0]["id"]]}}, headers=P1)
    error(resp, 400, "PortSecurityAndIPRequiredForSecurityGroups")


def test_port_list_filters(client):
    net = make_net(client)
    make_subnet(client, net["id"])
    other = make_net(client)
    a = make_port(client, net["id"], device_id="vm-a")
    b = make_port(client, net["id"], allowed_address_pairs=[{"ip_address": "10.9.0.0/24"}])
    make_port(client, other["id"])

    def ids(query):
        return {p["id"] for p in ok(client.get(f"{N}/ports?{query}", headers=P1))["ports"]}

    assert ids(f"network_id={net['id']}") == {a["id"], b["id"]}
    assert ids("device_id=vm-a") == {a["id"]}
    assert ids(f"mac_address={b['mac_address']}") == {b["id"]}
    assert ids(f"fixed_ips=ip_address={a['fixed_ips'][0]['ip_address']}") == {a["id"]}
    assert ids(f"fixed_ips=subnet_id={a['fixed_ips'][0]['subnet_id']}") == {a["id"], b["id"]}
    assert b["allowed_address_pairs"] == [{"ip_address": "10.9.0.0/24",
                                           "mac_address": b["mac_address"]}]
    fields = ok(client.get(f"{N}/ports?device_id=vm-a&fields=id&fields=name", headers=P1))
    assert fields["ports"] == [{"id": a["id"], "name": ""}]


def test_port_update_changes_ips_and_releases_old_ones(client):
    net = make_net(client)
    make_subnet(client, net["id"])
    port = make_port(client, net["id"])
    body = {"port": {"fixed_ips": [{"ip_address": "10.0.0.77"}], "name": "renamed"}}
    updated = ok(client.put(f"{N}/ports/{port['id']}", json=body, headers=P1))["port"]
    assert updated["fixed_ips"][0]["ip_address"] == "10.0.0.77"
    assert updated["revision_number"] == 1 and updated["name"] == "renamed"
    again = make_port(client, net["id"])
    assert again["fixed_ips"][0]["ip_address"] == "10.0.0.2"


def test_pagination_gives_next_link_and_marker(client):
    for i in range(5):
        make_net(client, name=f"n{i}")
    first = ok(client.get(f"{N}/networks?limit=2", headers=P1))
    assert [n["name"] for n in first["networks"]] == ["n0", "n1"]
    link = first["networks_links"][0]
    assert link["rel"] == "next" and "marker=" in link["href"]
    marker = first["networks"][-1]["id"]
    second = ok(client.get(f"{N}/networks?limit=2&marker={marker}", headers=P1))
    assert [n["name"] for n in second["networks"]] == ["n2", "n3"]
    last = ok(client.get(f"{N}/networks?limit=2&marker={second['networks'][-1]['id']}",
                         headers=P1))
    assert [n["name"] for n in last["networks"]] == ["n4"] and "networks_links" not in last


# -- security groups -----------------------------------------------------------

def test_default_group_has_two_egress_and_two_ingress_from_self(client):
    group = ok(client.get(f"{N}/security-groups", headers=P1))["security_groups"][0]
    rules = group["security_group_rules"]
    assert sorted((r["direction"], r["ethertype"]) for r in rules) == [
        ("egress", "IPv4"), ("egress", "IPv6"), ("ingress", "IPv4"), ("ingress", "IPv6")]
    assert all(r["remote_group_id"] == group["id"] for r in rules if r["direction"] == "ingress")
    error(client.delete(f"{N}/security-groups/{group['id']}", headers=P1), 409,
          "SecurityGroupCannotRemoveDefault")


def test_new_group_gets_egress_rules_and_rules_are_validated(client):
    body = {"security_group": {"name": "web", "description": "d"}}
    group = ok(client.post(f"{N}/security-groups", json=body, headers=P1), 201)["security_group"]
    assert len(group["security_group_rules"]) == 2
    rule = {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
            "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"}
    created = ok(client.post(f"{N}/security-group-rules", json={"security_group_rule": rule},
                             headers=P1), 201)["security_group_rule"]
    assert created["ethertype"] == "IPv4" and created["project_id"] == "p1"
    message = error(client.post(f"{N}/security-group-rules", json={"security_group_rule": rule},
                                headers=P1), 409, "SecurityGroupRuleExists")
    assert created["id"] in message
    bad = dict(rule, port_range_min=90, port_range_max=80)
    error(client.post(f"{N}/security-group-rules", json={"security_group_rule": bad},
                      headers=P1), 400, "SecurityGroupInvalidPortRange")
    both = dict(rule, port_range_min=81, port_range_max=81, remote_group_id=group["id"])
    error(client.post(f"{N}/security-group-rules", json={"security_group_rule": both},
                      headers=P1), 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix")
    v6 = dict(rule, remote_ip_prefix="::/0")
    error(client.post(f"{N}/security-group-rules", json={"security_group_rule": v6},
                      headers=P1), 400, "SecurityGroupRuleParameterConflict")
    listed = ok(client.get(f"{N}/security-group-rules?security_group_id={group['id']}",
                           headers=P1))["security_group_rules"]
    assert len(listed) == 3


def test_group_in_use_cannot_be_deleted(client):
    group = ok(client.post(f"{N}/security-groups", json={"security_group": {"name": "g"}},
                           headers=P1), 201)["security_group"]
    net = make_net(client)
    port = make_port(client, net["id"], security_groups=[group["id"]])
    error(client.delete(f"{N}/security-groups/{group['id']}", headers=P1), 409,
          "SecurityGroupInUse")
    ok(client.delete(f"{N}/ports/{port['id']}", headers=P1), 204)
    ok(client.delete(f"{N}/security-groups/{group['id']}", headers=P1), 204)


def test_second_group_named_default_is_refused(client):
    resp = client.post(f"{N}/security-groups", json={"security_group": {"name": "default"}},
                       headers=P1)
    error(resp, 409, "SecurityGroupDefaultAlreadyExists")


def test_other_projects_groups_are_invisible(client):
    group = ok(client.post(f"{N}/security-groups", json={"security_group": {"name": "g"}},
                           headers=P1), 201)["security_group"]
    error(client.get(f"{N}/security-groups/{group['id']}", headers=P2), 404,
          "SecurityGroupNotFound")
    ok(client.get(f"{N}/security-groups/{group['id']}", headers=ADMIN))


# -- quotas --------------------------------------------------------------------

def test_quota_details_count_real_resources(client):
    net = make_net(client)
    make_subnet(client, net["id"])
    make_port(client, net["id"])
    quota = ok(client.get(f"{N}/quotas/p1/details", headers=P1))["quota"]
    assert quota["network"] == {"limit": 100, "used": 1, "reserved": 0}
    assert quota["port"]["used"] == 1 and quota["subnet"]["used"] == 1
    assert quota["security_group"]["used"] == 1
    assert quota["security_group_rule"]["used"] == 4
    assert set(quota) >= {"network", "subnet", "port", "router", "floatingip",
                          "security_group", "security_group_rule"}


def test_over_quota_create_fails_with_neutron_message(client):
    ok(client.put(f"{N}/quotas/p1", json={"quota": {"port": 1}}, headers=ADMIN))
    net = make_net(client)
    make_port(client, net["id"])
    resp = client.post(f"{N}/ports", json={"port": {"network_id": net["id"]}}, headers=P1)
    assert resp.status_code == 409
    assert resp.get_json() == {"NeutronError": {
        "type": "OverQuota", "message": "Quota exceeded for resources: ['port'].", "detail": ""}}


def test_unlimited_quota_never_blocks(client):
    ok(client.put(f"{N}/quotas/p1", json={"quota": {"network": -1}}, headers=ADMIN))
    for _ in range(3):
        make_net(client)


def test_quota_policy(client):
    ok(client.get(f"{N}/quotas/p1", headers=P1))
    error(client.get(f"{N}/quotas/p2", headers=P1), 403, "PolicyNotAuthorized")
    error(client.get(f"{N}/quotas/p2/details", headers=P1), 403, "PolicyNotAuthorized")
    error(client.put(f"{N}/quotas/p1", json={"quota": {"port": 5}}, headers=P1), 403,
          "PolicyNotAuthorized")
    error(client.get(f"{N}/quotas", headers=P1), 403, "PolicyNotAuthorized")
    error(client.delete(f"{N}/quotas/p1", headers=P1), 403, "PolicyNotAuthorized")


def test_quota_update_list_default_and_reset(client):
    updated = ok(client.put(f"{N}/quotas/p1", json={"quota": {"network": 7, "port": 9}},
                            headers=ADMIN))["quota"]
    assert updated["network"] == 7 and updated["port"] == 9 and updated["router"] == 10
    listed = ok(client.get(f"{N}/quotas", headers=ADMIN))["quotas"]
    assert listed == [dict(updated, project_id="p1", tenant_id="p1")]
    assert ok(client.get(f"{N}/quotas/p1/default", headers=P1))["quota"]["network"] == 100
    ok(client.delete(f"{N}/quotas/p1", headers=ADMIN), 204)
    assert ok(client.get(f"{N}/quotas/p1", headers=P1))["quota"]["network"] == 100
    error(client.delete(f"{N}/quotas/p1", headers=ADMIN), 404, "TenantQuotaNotFound")


def test_quota_update_validation_and_check_limit(client):
    error(client.put(f"{N}/quotas/p1", json={"quota": {"widgets": 3}}, headers=ADMIN), 400,
          "HTTPBadRequest")
    error(client.put(f"{N}/quotas/p1", json={"quota": {"port": -2}}, headers=ADMIN), 400,
          "HTTPBadRequest")
    make_net(client)
    make_net(client)
    ok(client.put(f"{N}/quotas/p1", json={"quota": {"network": 1}}, headers=ADMIN))
    message = error(client.put(f"{N}/quotas/p1", json={"quota": {"network": 1,
                                                                 "check_limit": True}},
                               headers=ADMIN), 400, "HTTPBadRequest")
    assert "already used 2" in message


# -- routers and floating IPs --------------------------------------------------

@pytest.fixture
def topology(client):
    public = make_net(client, ADMIN, name="public", **{"router:external": True})
    public_subnet = make_subnet(client, public["id"], "172.24.4.0/24", h=ADMIN)
    net = make_net(client)
    subnet = make_subnet(client, net["id"])
    return {"public": public, "public_subnet": public_subnet, "net": net, "subnet": subnet}


def test_router_gateway_interfaces_and_routes(client, topology):
    body = {"router": {"name": "r", "external_gateway_info": {
        "network_id": topology["public"]["id"]}}}
    router = ok(client.post(f"{N}/routers", json=body, headers=P1), 201)["router"]
    gw = router["external_gateway_info"]
    assert gw["network_id"] == topology["public"]["id"] and gw["enable_snat"] is True
    assert gw["external_fixed_ips"][0]["ip_address"] == "172.24.4.2"
    info = ok(client.put(f"{N}/routers/{router['id']}/add_router_interface",
                         json={"subnet_id": topology["subnet"]["id"]}, headers=P1))
    assert info["subnet_id"] == topology["subnet"]["id"] and info["id"] == router["id"]
    port = ok(client.get(f"{N}/ports/{info['port_id']}", headers=P1))["port"]
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.1"
    assert port["device_owner"] == "network:router_interface"
    error(client.delete(f"{N}/ports/{port['id']}", headers=P1), 409, "ServicePortInUse")
    error(client.delete(f"{N}/routers/{router['id']}", headers=P1), 409, "RouterInUse")
    routes = {"router": {"routes": [{"destination": "192.168.0.0/24", "nexthop": "10.0.0.9"}]}}
    updated = ok(client.put(f"{N}/routers/{router['id']}", json=routes, headers=P1))["router"]
    assert updated["routes"] == routes["router"]["routes"]
    far = {"router": {"routes": [{"destination": "192.168.1.0/24", "nexthop": "10.5.0.9"}]}}
    error(client.put(f"{N}/routers/{router['id']}", json=far, headers=P1), 400, "InvalidRoutes")
    error(client.put(f"{N}/routers/{router['id']}/remove_router_interface",
                     json={"subnet_id": topology["subnet"]["id"]}, headers=P1), 409,
          "RouterInterfaceInUseByRoute")
    ok(client.put(f"{N}/routers/{router['id']}", json={"router": {"routes": []}}, headers=P1))
    ok(client.put(f"{N}/routers/{router['id']}/remove_router_interface",
                  json={"subnet_id": topology["subnet"]["id"]}, headers=P1))
    ok(client.delete(f"{N}/routers/{router['id']}", headers=P1), 204)
    assert ok(client.get(f"{N}/ports?device_owner=network:router_gateway",
                         headers=ADMIN))["ports"] == []


def test_router_gateway_must_be_external(client, topology):
    body = {"router": {"external_gateway_info": {"network_id": topology["net"]["id"]}}}
    resp = client.post(f"{N}/routers", json=body, headers=P1)
    assert resp.status_code == 400
    body = {"router": {"external_gateway_info": {"network_id": topology["public"]["id"],
                                                 "enable_snat": False}}}
    error(client.post(f"{N}/routers", json=body, headers=P1), 403, "PolicyNotAuthorized")


def test_floating_ip_association_needs_a_router(client, topology):
    port = make_port(client, topology["net"]["id"])
    body = {"floatingip": {"floating_network_id": topology["public"]["id"],
                           "port_id": port["id"]}}
    error(client.post(f"{N}/floatingips", json=body, headers=P1), 404,
          "ExternalGatewayForFloatingIPNotFound")
    router = ok(client.post(f"{N}/routers", json={"router": {"external_gateway_info": {
        "network_id": topology["public"]["id"]}}}, headers=P1), 201)["router"]
    ok(client.put(f"{N}/routers/{router['id']}/add_router_interface",
                  json={"subnet_id": topology["subnet"]["id"]}, headers=P1))
    fip = ok(client.post(f"{N}/floatingips", json=body, headers=P1), 201)["floatingip"]
    assert fip["status"] == "ACTIVE" and fip["router_id"] == router["id"]
    assert fip["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert fip["floating_ip_address"].startswith("172.24.4.")
    assert fip["port_details"]["mac_address"] == port["mac_address"]
    error(client.put(f"{N}/routers/{router['id']}/remove_router_interface",
                     json={"subnet_id": topology["subnet"]["id"]}, headers=P1), 409,
          "RouterInterfaceInUseByFloatingIP")
    freed = ok(client.put(f"{N}/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}},
                          headers=P1))["floatingip"]
    assert freed["port_id"] is None and freed["status"] == "DOWN"
    quota = ok(client.get(f"{N}/quotas/p1/details", headers=P1))["quota"]
    assert quota["floatingip"]["used"] == 1 and quota["router"]["used"] == 1
    ok(client.delete(f"{N}/floatingips/{fip['id']}", headers=P1), 204)


def test_floating_ip_needs_external_network(client, topology):
    body = {"floatingip": {"floating_network_id": topology["net"]["id"]}}
    assert client.post(f"{N}/floatingips", json=body, headers=P1).status_code == 400


def test_deleting_a_port_disassociates_its_floating_ip(client, topology):
    router = ok(client.post(f"{N}/routers", json={"router": {"external_gateway_info": {
        "network_id": topology["public"]["id"]}}}, headers=P1), 201)["router"]
    ok(client.put(f"{N}/routers/{router['id']}/add_router_interface",
                  json={"subnet_id": topology["subnet"]["id"]}, headers=P1))
    port = make_port(client, topology["net"]["id"])
    fip = ok(client.post(f"{N}/floatingips", json={"floatingip": {
        "floating_network_id": topology["public"]["id"], "port_id": port["id"]}},
        headers=P1), 201)["floatingip"]
    ok(client.delete(f"{N}/ports/{port['id']}", headers=P1), 204)
    assert ok(client.get(f"{N}/floatingips/{fip['id']}", headers=P1))["floatingip"][
        "port_id"] is None


# -- contract with Nova --------------------------------------------------------

def test_nova_contract_ports_of_a_server(client, region):
    net = make_net(client)
    make_subnet(client, net["id"])
    state = region.service("neutron")
    with region.lock:
        port = state.create_port_for_server("p1", net["id"], "server-1")
        fixed = state.create_port_for_server("p1", net["id"], "server-1", "10.0.0.99")
        assert state.get_network(net["id"])["id"] == net["id"]
    assert port["device_owner"] == "compute:nova" and port["status"] == "ACTIVE"
    assert fixed["fixed_ips"][0]["ip_address"] == "10.0.0.99"
    assert {p["id"] for p in state.ports_of_device("server-1")} == {port["id"], fixed["id"]}
    assert ok(client.get(f"{N}/quotas/p1/details", headers=P1))["quota"]["port"]["used"] == 2
    listed = ok(client.get(f"{N}/ports?device_id=server-1", headers=P1))["ports"]
    assert len(listed) == 2
    with region.lock:
        state.delete_ports_of_device("server-1")
    assert state.ports_of_device("server-1") == []
    assert ok(client.get(f"{N}/quotas/p1/details", headers=P1))["quota"]["port"]["used"] == 0


def test_nova_contract_errors(client, region):
    net = make_net(client)
    make_subnet(client, net["id"], "10.0.0.0/30")
    state = region.service("neutron")
    with region.lock:
        with pytest.raises(KeyError):
            state.create_port_for_server("p1", "no-such-network", "s")
        with pytest.raises(KeyError):
            state.create_port_for_server("p2", net["id"], "s")  # private to p1
        state.create_port_for_server("p1", net["id"], "s")
        with pytest.raises(neutron.NoFreeIP):
            state.create_port_for_server("p1", net["id"], "s")
        state.quota_limits["p1"] = {"port": 1}
        with pytest.raises(neutron.OverQuota) as caught:
            state.create_port_for_server("p1", net["id"], "s")
    assert caught.value.body()["NeutronError"]["message"] == \
        "Quota exceeded for resources: ['port']."
