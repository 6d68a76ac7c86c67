"""Repository of global networks on SQLite: VXLAN id allocation, ports as last seen,
and the due / lease / request bookkeeping of reconciled objects."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kingbird.core import exceptions
from kingbird.network import reconcile_leases as reconcile_db
from kingbird.network import repository as networks_db
from kingbird.network.repository import networks_table

RANGES = ((7, 9),)
PARTS = {"RegionOne": {"gateway_ip": "198.51.100.1",
                       "allocation_pools": [{"start": "198.51.100.2", "end": "198.51.100.100"}]},
         "RegionTwo": {"gateway_ip": None,
                       "allocation_pools": [{"start": "198.51.100.101",
                                             "end": "198.51.100.200"}]}}


def create(session, project="p1"):
    return networks_db.create_global_network(
        session, project_id=project, name="n", cidr="198.51.100.0/24", ip_version=4,
        gateway_regions=["RegionOne"], reserved=8, parts=PARTS, ranges=RANGES)


def test_networks_get_the_lowest_free_vxlan_id_and_free_it_when_deleted(tx):
    with tx() as session:
        first, second = create(session), create(session)
    assert (first["segmentation_id"], second["segmentation_id"]) == (7, 8)
    assert [r["region"] for r in first["regions"]] == ["RegionOne", "RegionTwo"]
    assert first["status"] == "BUILD" and first["regions"][0]["gateway_ip"] == "198.51.100.1"
    with tx() as session:
        networks_db.delete_global_network(session, first["id"])
        assert create(session)["segmentation_id"] == 7


def test_a_blocked_id_is_skipped_for_good_and_exhaustion_is_a_503(tx):
    with tx() as session:
        net = create(session)
        assert networks_db.block_segment(session, net["id"], "RegionTwo", "in use", RANGES) == 8
        assert create(session)["segmentation_id"] == 9
        with pytest.raises(exceptions.ServiceUnavailable, match="vni_ranges"):
            create(session)


def test_two_networks_can_never_hold_the_same_vxlan_id(tx):
    """What makes two API processes racing for an id fail one transaction (retried)."""
    with pytest.raises(IntegrityError):
        with tx() as session:
            first, second = create(session), create(session)
            session.execute(sa.update(networks_table).where(networks_table.c.id == second["id"])
                            .values(segmentation_id=first["segmentation_id"]))


def test_networks_are_listed_and_shown_only_to_their_project(tx):
    with tx() as session:
        net = create(session, "p1")
        create(session, "p2")
        assert [n["id"] for n in networks_db.list_global_networks(session, "p1")] == [net["id"]]
        assert networks_db.get_global_network(session, net["id"], "p2") is None


def test_saved_ports_replace_those_of_answering_regions_only_and_keep_attachments(tx):
    with tx() as session:
        net = create(session)
        networks_db.attach_port(session, net["id"], "RegionOne", "a1", {"mac_address": "m"})
        networks_db.save_network_ports(session, net["id"], [
            {"region": "RegionOne", "port_id": "a1", "status": "ACTIVE", "shadows": {"x": "s"}},
            {"region": "RegionTwo", "port_id": "b1", "status": "ACTIVE", "shadows": {}}],
            ["RegionOne", "RegionTwo"])
        networks_db.save_network_ports(session, net["id"], [], ["RegionTwo"])
        ports = networks_db.network_ports(session, net["id"])
    assert [(p["region"], p["port_id"], p["source"], p["status"]) for p in ports] == [
        ("RegionOne", "a1", "attached", "ACTIVE")]


def test_a_request_made_during_a_reconcile_keeps_the_object_due(tx):
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with tx() as session:
        net = create(session)
        assert reconcile_db.claim_object(session, "network", net["id"], "e1", 30, now=start)
        assert not reconcile_db.claim_object(session, "network", net["id"], "e2", 30, now=start)
    with tx() as session:
        networks_db.request_network_reconcile(session, net["id"])  # now, after ``start``
        reconcile_db.release_object(session, "network", net["id"], "e1", started_at=start,
                                    next_due=start + dt.timedelta(days=3650))
        assert reconcile_db.due_objects(session, "network") == [net["id"]]


def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_renew(tx):
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    with tx() as session:
        net = create(session)
        reconcile_db.claim_object(session, "network", net["id"], "e1", 30, now=start)
        later = start + dt.timedelta(seconds=31)
        assert reconcile_db.claim_object(session, "network", net["id"], "e2", 30, now=later)
        assert reconcile_db.renew_object_leases(session, "network", [net["id"]], "e1", 30,
                                                now=later) == []
