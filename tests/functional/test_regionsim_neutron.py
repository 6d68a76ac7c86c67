"""regionsim's Neutron as openstacksdk sees it, over real sockets behind real Keystone."""

from __future__ import annotations

import uuid

import pytest
from openstack import exceptions as sdk_exc

pytestmark = pytest.mark.functional

REGION = "RegionOne"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def member_net(cloud):
    conn = cloud.member(REGION)
    net = conn.network.create_network(name=_name("net"))
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.20.0.0/24",
                                        name=_name("sub"))
    yield conn, net, subnet
    for port in conn.network.ports(network_id=net.id):
        if port.device_owner == "network:router_interface":
            continue
        conn.network.delete_port(port, ignore_missing=True)
    conn.network.delete_network(net, ignore_missing=True)


def test_ports_get_addresses_and_filters_work(cloud, member_net):
    conn, net, subnet = member_net
    assert subnet.gateway_ip == "10.20.0.1"
    assert subnet.allocation_pools == [{"start": "10.20.0.2", "end": "10.20.0.254"}]
    port = conn.network.create_port(network_id=net.id, device_id="vm-1")
    assert port.fixed_ips[0]["subnet_id"] == subnet.id
    assert port.mac_address.startswith("fa:16:3e:")
    assert port.project_id == cloud.project_id("demo")
    assert [p.id for p in conn.network.ports(device_id="vm-1")] == [port.id]
    address = port.fixed_ips[0]["ip_address"]
    assert [p.id for p in conn.network.ports(fixed_ips=f"ip_address={address}")] == [port.id]
    with pytest.raises(sdk_exc.ConflictException):
        conn.network.create_port(network_id=net.id, fixed_ips=[{"ip_address": address}])
    default = [g for g in conn.network.security_groups(name="default")]
    assert len(default) == 1 and port.security_group_ids == [default[0].id]
    assert len(default[0].security_group_rules) == 4


def test_provider_attributes_are_for_admins(cloud, member_net):
    _, net, _ = member_net
    admin = cloud.admin(REGION)
    seen = admin.network.get_network(net.id)
    assert seen.provider_network_type == "vxlan" and seen.provider_segmentation_id
    assert cloud.member(REGION).network.get_network(net.id).provider_network_type is None
    with pytest.raises(sdk_exc.ConflictException):
        admin.network.create_network(name=_name("dup"), provider_network_type="vxlan",
                                     provider_segmentation_id=seen.provider_segmentation_id)
    with pytest.raises(sdk_exc.ForbiddenException):
        cloud.member(REGION).network.create_network(provider_network_type="vxlan")


def test_quota_details_and_over_quota(cloud):
    # A project of its own: Kingbird keeps the demo project's quotas in sync.
    project = cloud.provisioner().ensure_project(_name("nq"))
    admin = cloud.admin(REGION)
    assert admin.network.get_quota_default(project).ports == 500
    admin.network.update_quota(project, ports=1)
    net = admin.network.create_network(name=_name("qnet"), project_id=project)
    try:
        admin.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.30.0.0/24",
                                    project_id=project)
        admin.network.create_port(network_id=net.id, project_id=project)
        with pytest.raises(sdk_exc.ConflictException) as caught:
            admin.network.create_port(network_id=net.id, project_id=project)
        assert "Quota exceeded for resources: ['port']." in str(caught.value)
        details = admin.network.get_quota(project, details=True)
        assert details.ports == {"limit": 1, "used": 1, "reserved": 0}
        assert details.networks["used"] == 1 and details.subnets["used"] == 1
        assert details.security_groups["used"] == 1
        assert details.security_group_rules["used"] == 4
        with pytest.raises(sdk_exc.ForbiddenException):
            cloud.member(REGION).network.get_quota(project)
        with pytest.raises(sdk_exc.ForbiddenException):
            cloud.member(REGION).network.update_quota(cloud.project_id("demo"), ports=1000)
    finally:
        for port in admin.network.ports(network_id=net.id):
            admin.network.delete_port(port)
        admin.network.delete_network(net)
        admin.network.delete_quota(project)
    assert admin.network.get_quota(project).ports == 500


def test_security_group_rules_and_duplicates(cloud):
    conn = cloud.member(REGION)
    group = conn.network.create_security_group(name=_name("sg"), description="web")
    try:
        rule = conn.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", protocol="tcp",
            port_range_min=22, port_range_max=22, remote_ip_prefix="10.0.0.0/8")
        assert rule.ether_type == "IPv4"
        with pytest.raises(sdk_exc.ConflictException):
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", protocol="tcp",
                port_range_min=22, port_range_max=22, remote_ip_prefix="10.0.0.0/8")
        rules = list(conn.network.security_group_rules(security_group_id=group.id))
        assert len(rules) == 3
    finally:
        conn.network.delete_security_group(group)


def test_router_and_floating_ip(cloud, member_net):
    conn, net, subnet = member_net
    admin = cloud.admin(REGION)
    public = admin.network.create_network(name=_name("ext"), is_router_external=True)
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr="198.51.100.0/24")
    router = conn.network.create_router(name=_name("r"),
                                        external_gateway_info={"network_id": public.id})
    try:
        assert router.external_gateway_info["network_id"] == public.id
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        port = conn.network.create_port(network_id=net.id)
        fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
        assert fip.router_id == router.id and fip.status == "ACTIVE"
        assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]
        conn.network.update_ip(fip, port_id=None)
        assert conn.network.get_ip(fip.id).port_id is None
        conn.network.delete_ip(fip)
        conn.network.delete_port(port)
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    finally:
        conn.network.delete_router(router, ignore_missing=True)
        admin.network.delete_network(public, ignore_missing=True)
