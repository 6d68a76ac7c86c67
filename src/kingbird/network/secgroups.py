"""Cross-region security group rules: a remote group of another region, expanded
into one CIDR rule per member address. Pure functions.

Neutron resolves ``remote_group_id`` only among the ports of its own region, so a
rule "allow tcp/5432 from the members of group *web* in RegionOne" cannot be
written in RegionTwo. Kingbird writes instead, in the RegionTwo group, one rule
per address of the *web* members (fixed IPs and allowed address pairs), marks
each with the global rule's id in its description, and keeps the set equal to
the members' addresses as ports come and go.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

MARKER_PREFIX = "kingbird-global-rule:"
DIRECTIONS = ("ingress", "egress")
ETHERTYPES = ("IPv4", "IPv6")
# What a global rule copies into each expanded rule.
SPEC_FIELDS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max")


def marker(rule_id: str) -> str:
    """The description that marks a Neutron rule as an expansion of ``rule_id``."""
    return f"{MARKER_PREFIX}{rule_id}"


def normalise_prefix(text: object) -> str | None:
    """``198.51.100.5`` or ``198.51.100.5/32`` → ``198.51.100.5/32``; None if not a prefix."""
    try:
        return str(ipaddress.ip_network(str(text), strict=False))
    except ValueError:
        return None


def member_prefixes(ports: Iterable[Mapping[str, Any]], ethertype: str) -> set[str]:
    """The prefixes of the group members' addresses of the rule's IP version."""
    version = 4 if ethertype == "IPv4" else 6
    found: set[str] = set()
    for port in ports:
        texts = [f.get("ip_address") for f in port.get("fixed_ips") or ()]
        texts += [p.get("ip_address") for p in port.get("allowed_address_pairs") or ()]
        for text in texts:
            prefix = normalise_prefix(text)
            if prefix is not None and ipaddress.ip_network(prefix).version == version:
                found.add(prefix)
    return found


def rule_body(spec: Mapping[str, Any], prefix: str, rule_id: str) -> dict[str, Any]:
    """The Neutron rule for one member prefix (``security_group_id`` added by the caller)."""
    body = {key: spec.get(key) for key in SPEC_FIELDS if spec.get(key) is not None}
    body["remote_ip_prefix"] = prefix
    body["description"] = marker(rule_id)
    return body


def plan_rules(wanted: set[str], existing: Mapping[str, list[str]]
               ) -> tuple[list[str], list[str]]:
    """``(prefixes to create, rule ids to delete)``.

    :param wanted: the member prefixes.
    :param existing: prefix -> ids of the marked rules found for it (duplicates
        beyond the first are deleted).
    """
    create = sorted(p for p in wanted if not existing.get(p))
    delete = []
    for prefix, ids in sorted(existing.items()):
        delete += ids if prefix not in wanted else ids[1:]
    return create, delete
