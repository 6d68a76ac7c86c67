"""Cross-region networking on a real data plane: Linux namespaces, bridges and VXLAN.

Kingbird builds two global networks with the same CIDR (two VNFs' backup planes)
over the demo regions. This test then plays the hypervisors' L2 agents: one
"hypervisor" namespace per region, joined by an underlay bridge on the regions'
tunnel endpoint addresses, carries each global network on a VXLAN device with the
segment id the region's Neutron network has, and learns where remote MACs live
*only* from the shadow ports Kingbird made in that region (static FDB entries to
the shadow's tunnel endpoint; the VXLAN devices do not learn). "VMs" are
namespaces with the MAC and IP of their Neutron ports.

Checked: a VM in RegionOne reaches one in RegionTwo (and RegionThree reaches
RegionOne); the two VNFs, with overlapping addresses, cannot reach each other;
the VIP answers from RegionOne, the RegionOne VM goes down, the RegionTwo VM
takes the VIP with a gratuitous ARP once the heartbeats stop, and pings to the
VIP resume: the failover gap is printed in milliseconds.

Needs root and iproute2 (``scripts/system-deps.sh``); skipped otherwise. Every
device lives in namespaces this test creates, and they are deleted at the end,
whatever happens.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kb_http import KingbirdHTTP, wait_for
from net_helpers import NetAPI, make_tenant

R1, R2, R3 = "RegionOne", "RegionTwo", "RegionThree"
PREFIX = "kbdp"  # namespaces of this test: kbdp<pid><role>
AGENT = str(Path(__file__).with_name("netns_agent.py"))
CIDR = "203.0.113.0/24"
HEARTBEAT, DEAD = 0.02, 0.1  # seconds: VRRP-like advertisement and dead intervals


def _ip(*args: str, check: bool = True, timeout: float = 10) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check,
                          timeout=timeout)


def _remove_stale_namespaces() -> None:
    """Namespaces of earlier runs of this test whose process is gone (a crash)."""
    listing = _ip("netns", "list", check=False).stdout
    for name in re.findall(rf"^({PREFIX}(\d+)\w*)", listing, re.MULTILINE):
        pid = int(name[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _ip("netns", "del", name[0], check=False)


def _require_platform() -> None:
    if os.geteuid() != 0:
        pytest.skip("the data-plane test needs root (network namespaces, VXLAN devices)")
    if not (shutil.which("ip") and shutil.which("bridge")):
        pytest.skip("the data-plane test needs iproute2 (ip, bridge): run "
                    "scripts/system-deps.sh")
    _remove_stale_namespaces()
    probe = f"{PREFIX}{os.getpid()}chk"
    try:
        _ip("netns", "add", probe)
        _ip("-n", probe, "link", "add", "vxchk", "type", "vxlan", "id", "42", "dstport", "4789",
            "local", "192.0.2.250")
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"network namespaces with VXLAN are not available here: {exc.stderr}")
    finally:
        _ip("netns", "del", probe, check=False)


class Namespaces:
    """The namespaces and helper processes of one run; ``close`` removes them all."""

    def __init__(self):
        self.names: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def add(self, role: str) -> str:
        name = f"{PREFIX}{os.getpid()}{role}"
        _ip("netns", "add", name)
        self.names.append(name)
        _ip("-n", name, "link", "set", "lo", "up")
        return name

    def veth(self, ns_a: str, dev_a: str, ns_b: str, dev_b: str) -> None:
        """A veth pair created inside the namespaces (never in the host's)."""
        _ip("-n", ns_a, "link", "add", dev_a, "type", "veth", "peer", "name", dev_b,
            "netns", ns_b)

    def run(self, ns: str, *args: str, timeout: float = 15) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", ns, sys.executable, AGENT, *args],
                              capture_output=True, text=True, timeout=timeout)

    def start(self, ns: str, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, AGENT, *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(proc)
        return proc

    def ping(self, ns: str, address: str, timeout: float = 3.0) -> bool:
        return self.run(ns, "ping", address, "--timeout", str(timeout)).returncode == 0

    def neighbour(self, ns: str, address: str) -> str | None:
        found = re.search(r"lladdr (\S+)", _ip("-n", ns, "neigh", "show", address).stdout)
        return found.group(1) if found else None

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.communicate(timeout=5)
        for name in reversed(self.names):
            _ip("netns", "del", name, check=False)
        self.names.clear()


@pytest.fixture
def namespaces():
    _require_platform()
    spaces = Namespaces()
    try:
        yield spaces
    finally:
        spaces.close()


def _region_view(cloud, region: str, network: dict) -> dict:
    """What an L2 agent of ``region`` reads from its Neutron: the segment and shadows."""
    conn = cloud.admin(region)
    net_id = network["regions"][region]["network_id"]
    shadows = [p for p in conn.network.ports(network_id=net_id)
               if p.device_owner == "compute:shadow"]
    return {"segment": conn.network.get_network(net_id).provider_segmentation_id,
            "remote": [(p.mac_address, p.binding_profile["tunnel_ip"]) for p in shadows]}


def _build(ns: Namespaces, cloud, tunnels: dict[str, str], networks: dict[str, dict],
           vms: dict[str, tuple[str, str, object]]) -> dict[str, str]:
    """Hypervisors, underlay, VXLAN per network from Neutron, and the VMs; VM role -> ns."""
    underlay = ns.add("ul")
    _ip("-n", underlay, "link", "add", "br0", "type", "bridge")
    _ip("-n", underlay, "link", "set", "br0", "up")
    hvs = {}
    for index, (region, tunnel) in enumerate(sorted(tunnels.items()), 1):
        hv = hvs[region] = ns.add(f"h{index}")
        ns.veth(hv, "ul0", underlay, f"h{index}")
        _ip("-n", underlay, "link", "set", f"h{index}", "master", "br0", "up")
        _ip("-n", hv, "addr", "add", f"{tunnel}/24", "dev", "ul0")
        _ip("-n", hv, "link", "set", "ul0", "up")
    for key, network in networks.items():
        for region in network["regions"]:
            hv, view = hvs[region], _region_view(cloud, region, network)
            _ip("-n", hv, "link", "add", f"br{key}", "type", "bridge")
            _ip("-n", hv, "link", "add", f"vx{key}", "type", "vxlan", "id", str(view["segment"]),
                "local", tunnels[region], "dstport", "4789", "nolearning", "dev", "ul0")
            _ip("-n", hv, "link", "set", f"vx{key}", "master", f"br{key}", "up")
            _ip("-n", hv, "link", "set", f"br{key}", "up")
            for mac, remote in view["remote"]:  # where each remote port lives
                subprocess.run(["bridge", "-n", hv, "fdb", "append", mac, "dev", f"vx{key}",
                                "dst", remote], check=True, timeout=10)
            for remote in sorted({r for _, r in view["remote"]}):  # flooding (ARP)
                subprocess.run(["bridge", "-n", hv, "fdb", "append", "00:00:00:00:00:00",
                                "dev", f"vx{key}", "dst", remote], check=True, timeout=10)
    spaces = {}
    for role, (key, region, port) in vms.items():
        vm = spaces[role] = ns.add(role)
        ns.veth(vm, "eth0", hvs[region], role)
        _ip("-n", hvs[region], "link", "set", role, "master", f"br{key}", "up")
        _ip("-n", vm, "link", "set", "eth0", "address", port.mac_address)
        _ip("-n", vm, "addr", "add", f"{port.fixed_ips[0]['ip_address']}/24", "dev", "eth0")
        _ip("-n", vm, "link", "set", "eth0", "up")
    return spaces


def _failover(ns: Namespaces, vm: dict[str, str], vip: str, standby_ip: str) -> dict:
    """VIP on va1, heartbeats to va2, probe from vc; va1's link goes down."""
    standby = ns.start(vm["va2"], "standby", vip, "--dead", str(DEAD), "--timeout", "8")
    assert json.loads(standby.stdout.readline())["listening"]
    ns.start(vm["va1"], "heartbeat", standby_ip, "--interval", str(HEARTBEAT),
             "--duration", "8")
    probe = ns.start(vm["vc"], "probe", vip, "--interval", "0.005", "--duration", "2.5")
    time.sleep(0.8)
    down_at = time.time()
    _ip("-n", vm["va1"], "link", "set", "eth0", "down")
    out, err = probe.communicate(timeout=15)
    assert probe.returncode == 0, err
    took, _ = standby.communicate(timeout=15)
    return {"down_at": down_at, "probe": json.loads(out),
            "standby": json.loads(took.strip().splitlines()[-1])}


def test_vnf_ha_across_regions_on_namespaces_and_vxlan(cloud, namespaces, capsys):
    kb = KingbirdHTTP(cloud.kingbird_root)
    tenant = make_tenant(cloud, kb, "dataplane")
    api = NetAPI(kb, tenant.token(), tenant.project_id)
    admin = NetAPI(kb, cloud.admin_token(), tenant.project_id)
    made_ports, networks, vip_path = [], {}, None
    try:
        networks["a"] = api.create(CIDR, [R1, R2, R3], name="vnf-a-backup")
        networks["b"] = api.create(CIDR, [R1, R2], name="vnf-b-backup")
        networks = {k: api.wait_active(n["id"]) for k, n in networks.items()}
        tunnels = {r: p["tunnel_endpoint"]
                   for r, p in admin.show(networks["a"]["id"])["regions"].items()}

        def port(key, region, name):
            net = networks[key]["regions"][region]["network_id"]
            made = tenant.conn(region).network.create_port(network_id=net, name=name)
            made_ports.append((region, made))
            return made

        vms = {"va1": ("a", R1, port("a", R1, "vnf-a-active")),
               "va2": ("a", R2, port("a", R2, "vnf-a-standby")),
               "vc": ("a", R3, port("a", R3, "client")),
               "vb1": ("b", R1, port("b", R1, "vnf-b-1")),
               "vb2": ("b", R2, port("b", R2, "vnf-b-2"))}
        vip_path = f"/os-global-networks/{networks['a']['id']}/vips"
        answer = api.call("POST", vip_path, {"vip": {"ports": [
            {"region": R1, "port_id": vms["va1"][2].id},
            {"region": R2, "port_id": vms["va2"][2].id}]}})
        assert answer.status_code == 202, answer.text
        vip = answer.json()["vip"]
        vip_path += f"/{vip['id']}"
        for key, _, made in vms.values():
            api.wait_port(networks[key]["id"], made.id, len(networks[key]["regions"]) - 1)
        wait_for(lambda: api.call("GET", vip_path).json()["vip"]["status"] == "ACTIVE",
                 timeout=20, what="VIP active")
        address = {role: made.fixed_ips[0]["ip_address"] for role, (_, _, made) in vms.items()}
        assert address["va1"] == address["vb1"]  # the two VNFs overlap

        vm = _build(namespaces, cloud, tunnels, networks, vms)

        assert namespaces.ping(vm["va1"], address["va2"]), "RegionOne -> RegionTwo"
        assert namespaces.ping(vm["vc"], address["va1"]), "RegionThree -> RegionOne"
        assert namespaces.ping(vm["vb1"], address["vb2"]), "the other VNF works too"
        assert not namespaces.ping(vm["va1"], address["vb2"], timeout=1.5), \
            "VNF A reached VNF B's address"
        assert namespaces.neighbour(vm["va1"], address["vb2"]) is None

        # The VIP on the active half (RegionOne), announced with a gratuitous ARP.
        _ip("-n", vm["va1"], "addr", "add", f"{vip['ip_address']}/24", "dev", "eth0")
        assert namespaces.run(vm["va1"], "garp", "eth0", vip["ip_address"]).returncode == 0
        assert namespaces.ping(vm["vc"], vip["ip_address"])
        assert namespaces.neighbour(vm["vc"], vip["ip_address"]) == vms["va1"][2].mac_address

        result = _failover(namespaces, vm, vip["ip_address"], address["va2"])
        replies = sorted(at for _, at, _ in result["probe"]["replies"])
        before = [t for t in replies if t < result["down_at"]]
        after = [t for t in replies if t > result["down_at"] + DEAD]
        assert before, "the VIP did not answer before the failover"
        assert after, f"pings to the VIP never resumed: {result}"
        # The outage: the longest silence between two replies (the probe asks every 5 ms).
        gap_ms = max(b - a for a, b in zip(replies, replies[1:], strict=False)) * 1000
        assert result["standby"]["took_vip_at"] is not None
        assert namespaces.neighbour(vm["vc"], vip["ip_address"]) == vms["va2"][2].mac_address
        with capsys.disabled():
            print(f"\nVIP failover gap: {gap_ms:.0f} ms (RegionOne -> RegionTwo, heartbeat "
                  f"{HEARTBEAT * 1000:.0f} ms, dead interval {DEAD * 1000:.0f} ms, probe "
                  f"every 5 ms; {len(before)} replies before, {len(after)} after)")
        assert gap_ms < 2000
    finally:
        if vip_path and vip_path.count("/") > 3:
            api.call("DELETE", vip_path)
        for region, made in made_ports:
            tenant.conn(region).network.delete_port(made, ignore_missing=True)
        for network in networks.values():  # the engine removes the regional parts
            api.call("DELETE", f"/os-global-networks/{network['id']}")
