"""``kingbird dr ...`` in-process, over a fake transport: options -> requests,
answers -> tables."""

from __future__ import annotations

import json

import _cli_harness
from _fake_kingbird import PROJECT

BASE = f"/{PROJECT}/os-dr"
PLAN = {"id": "pl1", "name": "vnf", "method": "snapshot-backup", "source_region": "R1",
        "recovery_region": "R2", "current_region": "R1", "servers": ["s1", "s2"],
        "status": "ACTIVE", "interval": 3600, "retention": 3}
STEPS = [{"name": "import_backups", "description": "Import", "status": "DONE",
          "detail": "6 imported", "items": ["backup b1 of volume v1"]},
         {"name": "restore_volumes", "description": "Restore", "status": "PENDING",
          "detail": None, "items": []}]

# The shared fixtures, found by pytest under these names.
transport = _cli_harness.transport
run = _cli_harness.run
restore_logging = _cli_harness.restore_logging


def test_plan_create_sends_the_servers_in_boot_order(run, transport):
    transport.answer("POST", f"{BASE}/plans", 201, {"plan": PLAN})
    status, out, _ = run("dr", "plan", "create", "vnf", "--server", "s1", "--server", "s2",
                         "--source-region", "R1", "--recovery-region", "R2",
                         "--retention", "3", "-f", "json")
    assert status == 0
    assert transport.sent[0].body == {"plan": {
        "name": "vnf", "servers": ["s1", "s2"], "source_region": "R1",
        "recovery_region": "R2", "method": "snapshot-backup", "retention": 3}}
    assert json.loads(out)["servers"] == "s1, s2"


def test_restore_points_are_listed_with_time_size_and_status(run, transport):
    transport.answer("GET", f"{BASE}/plans/pl1/restore-points", 200, {"restore_points": [
        {"id": "rp1", "plan_id": "pl1", "status": "AVAILABLE", "region": "R1",
         "taken_at": "2026-01-01T12:00:00", "size_gb": 6, "incremental": True,
         "purpose": "scheduled"}]})
    _, out, _ = run("dr", "restore-point", "list", "pl1", "-f", "value")
    assert out == "rp1 2026-01-01T12:00:00 R1 AVAILABLE 6 True scheduled\n"


def test_failover_dry_run_lists_the_steps_and_their_items(run, transport):
    transport.answer("POST", f"{BASE}/plans/pl1/failover", 200, {"dry_run": {
        "kind": "failover", "from_region": "R1", "to_region": "R2", "restore_point": "rp1",
        "steps": STEPS}})
    status, out, _ = run("dr", "failover", "pl1", "--dry-run", "--restore-point", "rp1",
                         "-f", "json")
    assert status == 0
    assert transport.sent[0].body == {"failover": {"dry_run": True, "restore_point": "rp1"}}
    assert [row["Step"] for row in json.loads(out)] == ["import_backups", "restore_volumes"]
    assert json.loads(out)[0]["Items"] == "backup b1 of volume v1"


def test_failover_wait_fails_with_the_operations_error(run, transport):
    operation = {"id": "op1", "plan_id": "pl1", "kind": "failover", "status": "QUEUED",
                 "from_region": "R1", "to_region": "R2", "steps": STEPS}
    transport.answer("POST", f"{BASE}/plans/pl1/failover", 202, {"operation": operation})
    transport.answer("GET", f"{BASE}/operations/op1", 200, {"operation": {
        **operation, "status": "FAILURE", "error": "restore_volumes: over quota"}})
    status, _, err = run("dr", "failover", "pl1", "--wait")
    assert status == 1
    assert "failover op1 failed: restore_volumes: over quota" in err


def test_operation_show_is_one_row_per_step(run, transport):
    transport.answer("GET", f"{BASE}/operations/op1", 200, {"operation": {
        "id": "op1", "plan_id": "pl1", "kind": "failback", "status": "IN_PROGRESS",
        "from_region": "R2", "to_region": "R1", "steps": STEPS}})
    _, out, err = run("dr", "operation", "show", "op1", "-f", "value")
    assert out == "import_backups DONE 6 imported\nrestore_volumes PENDING \n"
    assert "failback op1: IN_PROGRESS" in err


def test_plan_delete_reports_how_many_of_several_failed(run, transport):
    transport.answer("DELETE", f"{BASE}/plans/pl1", 202, {"plan": {"id": "pl1"}})
    status, _, err = run("dr", "plan", "delete", "pl1", "pl2")
    assert status == 1
    assert "1 of 2 plans failed to delete" in err
