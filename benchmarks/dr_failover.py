"""Disaster recovery figures: RPO, RTO, and backup bytes of full vs incremental
restore points.

Scenario, per method (``snapshot-backup``, ``replication``) and per injected
latency: the demo cloud (real Keystone, regionsim, Kingbird API and engine, as
``kingbird-demo`` runs them) with a VNF of ``--vms`` servers, each booted from a
volume and with a data volume, holding ``--blocks`` blocks of 32 KiB each. A
protection plan takes a first restore point (full backups), ``--changed`` blocks
of each data volume change, a second restore point is taken (incremental), the
data changes again, RegionOne is taken down, and an admin fails the VNF over to
RegionTwo. Latency (``--latency-ms``) is added to every request of both regions,
the way a remote site's APIs answer more slowly than a loopback.

Figures:

- restore point duration (full, incremental) and the backup bytes each wrote
  (regionsim's account of its backup store: the changed 32 KiB blocks for an
  incremental backup);
- RPO: age of the newest restore point when RegionOne went down (here the time
  between the second restore point and the cut; with a schedule its bound is the
  interval plus a restore point's duration), 0 for replication;
- RTO: wall time of the failover, from the admin's POST to SUCCESS, with the
  time of each step; and the failback's wall time.

Usage: ``.venv/bin/python benchmarks/dr_failover.py --vms 3 --latency-ms 0 50``.
Printed and saved as JSON under ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests" / "functional"
sys.path.insert(0, str(TESTS))

from conftest import Cloud, Credentials, _read_openrc, start_demo, stop_demo  # noqa: E402
from dr_helpers import (  # noqa: E402
    ONE,
    TWO,
    DrAPI,
    backup_bytes,
    ensure_replicated_type,
    make_tenant,
    make_vnf,
    write_contents,
)
from kb_http import KingbirdHTTP  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=32, help="32 KiB blocks per volume")
    parser.add_argument("--changed", type=int, default=2,
                        help="blocks of each data volume changed between restore points")
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[0.0, 50.0])
    parser.add_argument("--methods", nargs="+", default=["snapshot-backup", "replication"])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    return parser.parse_args(argv)


def _time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _duration(point: dict) -> float:
    return round((_time(point["completed_at"]) - _time(point["created_at"])).total_seconds(), 2)


def _step_times(operation: dict) -> dict[str, float]:
    return {s["name"]: round((_time(s["finished_at"]) - _time(s["started_at"])).total_seconds(),
                             3)
            for s in operation["steps"] if s.get("started_at") and s.get("finished_at")}


def run_one(cloud: Cloud, kb: KingbirdHTTP, args, method: str, latency: float) -> dict:
    replicated = method == "replication"
    if replicated:
        for region in (ONE, TWO):
            ensure_replicated_type(cloud, region)
    tenant = make_tenant(cloud, [ONE, TWO])
    vnf = make_vnf(cloud, tenant, replicated=replicated, count=args.vms)
    write_contents(cloud, vnf, 0, args.blocks, args.changed)
    api = DrAPI(kb, tenant.project_id)
    token, admin = tenant.token(), cloud.admin_token()
    for region in (ONE, TWO):
        cloud.sim("PUT", f"/regions/{region}/faults", json={"latency": latency})
    figures: dict = {"method": method, "latency_ms": latency * 1000, "vms": args.vms,
                     "volumes": 2 * args.vms}
    try:
        created = api.create_plan(token, name="bench", servers=[s["id"] for s in vnf.servers],
                                  source_region=ONE, recovery_region=TWO, method=method)
        assert created.status_code == 201, created.text
        plan_id = created.json()["plan"]["id"]
        first = api.wait_points(token, plan_id, 1, timeout=600)[0]
        write_contents(cloud, vnf, 1, args.blocks, args.changed)
        second = api.take_point(token, plan_id, timeout=600)
        write_contents(cloud, vnf, 2, args.blocks, args.changed)
        figures["restore_point_s"] = {"first": _duration(first), "second": _duration(second)}
        if not replicated:
            full = sum(backup_bytes(cloud, ONE, b["backup_id"])
                       for b in api.point(token, plan_id, first["id"])["backups"])
            incremental = sum(backup_bytes(cloud, ONE, b["backup_id"])
                              for b in api.point(token, plan_id, second["id"])["backups"])
            figures["backup_bytes"] = {"full": full, "incremental": incremental,
                                       "ratio": round(incremental / full, 4)}
        cloud.sim("POST", f"/regions/{ONE}/down")
        failed_at = dt.datetime.now(dt.UTC)
        figures["rpo_s"] = 0.0 if replicated else round(
            (failed_at - _time(second["taken_at"])).total_seconds(), 2)
        start = time.monotonic()
        answer = api.call("POST", f"/plans/{plan_id}/failover", admin)
        assert answer.status_code == 202, answer.text
        operation = api.wait_operation(token, answer.json()["operation"]["id"], timeout=1800)
        figures["rto_s"] = round(time.monotonic() - start, 2)
        assert operation["status"] == "SUCCESS", operation["error"]
        figures["failover_steps_s"] = _step_times(operation)
        cloud.sim("POST", f"/regions/{ONE}/up")
        start = time.monotonic()
        answer = api.call("POST", f"/plans/{plan_id}/failback", admin)
        assert answer.status_code == 202, answer.text
        operation = api.wait_operation(token, answer.json()["operation"]["id"], timeout=1800)
        assert operation["status"] == "SUCCESS", operation["error"]
        figures["failback_s"] = round(time.monotonic() - start, 2)
    finally:
        cloud.sim("POST", f"/regions/{ONE}/up")
        for region in (ONE, TWO):
            cloud.sim("DELETE", f"/regions/{region}/faults")
    return figures


def show(f: dict) -> None:
    line = (f"  {f['method']:<15} latency {f['latency_ms']:>5.0f} ms | restore points "
            f"{f['restore_point_s']['first']:.2f} s (first), {f['restore_point_s']['second']:.2f}"
            f" s (second) | RPO {f['rpo_s']:.2f} s | RTO {f['rto_s']:.2f} s | failback "
            f"{f['failback_s']:.2f} s")
    if "backup_bytes" in f:
        b = f["backup_bytes"]
        line += (f" | backup bytes full {b['full']} incremental {b['incremental']} "
                 f"({100 * b['ratio']:.1f} %)")
    print(line, flush=True)
    slowest = sorted(f["failover_steps_s"].items(), key=lambda kv: -kv[1])[:3]
    print("      slowest failover steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in slowest),
          flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    print(f"dr_failover: {args.vms} VMs ({2 * args.vms} volumes of {args.blocks} x 32 KiB), "
          f"{args.changed} blocks changed per data volume between restore points", flush=True)
    results: dict = {"scenario": vars(args), "runs": []}
    with tempfile.TemporaryDirectory(prefix="kb-dr-") as tmp:
        state_dir = Path(tmp) / "demo"
        state_dir.mkdir()
        proc, summary = start_demo(state_dir, "--sync-interval", "5")
        try:
            def creds(path):
                env = _read_openrc(path)
                return Credentials(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                                   env["OS_PROJECT_NAME"])

            cloud = Cloud(summary, creds(summary["admin_openrc"]),
                          creds(summary["member_openrc"]))
            kb = KingbirdHTTP(cloud.kingbird_root)
            for latency_ms in args.latency_ms:
                for method in args.methods:
                    figures = run_one(cloud, kb, args, method, latency_ms / 1000)
                    results["runs"].append(figures)
                    show(figures)
        finally:
            stop_demo(proc)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"dr_failover-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"  figures saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
