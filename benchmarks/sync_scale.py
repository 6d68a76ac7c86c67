"""Quota sync at scale: P projects × R regions with injected round-trip latency.

Starts a real Keystone and regionsim (R regions), creates P projects with global
limits, injects ``--latency`` into every regional call, then runs Kingbird's engine
(``QuotaScheduler`` → ``QuotaSyncer``, escrow by default) in this process for one
cold cycle (every project's limits written for the first time) and
``--steady-cycles`` cycles where nothing changed. Every call to a region is real
HTTP, counted on Kingbird's side by a counting transport adapter.

Printed per cycle: wall time, HTTP calls per project-region (reads, writes), the
latency bound ``calls × RTT ÷ concurrency`` and the ratio of the wall time to it,
and CPU seconds spent by the engine (this process) and by regionsim.
Targets (issue 6): steady state <= 3 calls per project-region and 0 writes;
cycle time <= 1.5 × the bound.

    .venv/bin/python benchmarks/sync_scale.py                       # 200 × 10 at 50 ms
    .venv/bin/python benchmarks/sync_scale.py --projects 1000 --regions 10 --latency-ms 50

``--slow-region RegionTwo=3`` adds a second scenario: one region answering in 3 s
while the engine's per-call timeout is 1 s, to show that it delays only itself.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import sys
import tempfile
import time
from pathlib import Path

from harness import Cloud, build_kingbird, cpu_seconds, quiet_logs, run_cycle

from kingbird.quota import repository as quota_db
from kingbird.quota import status_repository as status_db

LIMITS = {"instances": 20, "cores": 40, "ram": 102400, "volumes": 20, "gigabytes": 2000,
          "port": 100, "network": 10}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=50.0,
                        help="round-trip latency injected into every regional call")
    parser.add_argument("--concurrency", type=int, default=16,
                        help="[regions] concurrency: calls in flight at once")
    parser.add_argument("--workers", type=int, default=8,
                        help="projects synced at once ([engine] job_workers)")
    parser.add_argument("--allocation", default="escrow", choices=["escrow", "classic"])
    parser.add_argument("--steady-cycles", type=int, default=2)
    parser.add_argument("--slow-region", help="NAME=SECONDS: also run a cycle with one "
                        "region that slow (per-call timeout 1 s)")
    parser.add_argument("--out", default="benchmarks/results",
                        help="directory where the figures are saved as JSON")
    return parser.parse_args(argv)


def create_projects(cloud: Cloud, count: int) -> list[str]:
    prov = cloud.stack.keystone.provisioner()
    with cf.ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda i: prov.ensure_project(f"scale-{i:05d}"), range(count)))


def measure(kingbird, scheduler, regionsim_pid: int, pairs: int, latency: float,
            concurrency: int) -> dict:
    before = kingbird.counter.snapshot()
    cpu0, sim0 = time.process_time(), cpu_seconds(regionsim_pid)
    wall = run_cycle(scheduler)
    cpu, sim_cpu = time.process_time() - cpu0, cpu_seconds(regionsim_pid) - sim0
    calls = kingbird.counter.region_calls(before)
    total = calls["read"] + calls["write"]
    bound = total * latency / concurrency
    return {
        "wall_s": round(wall, 2),
        "reads": calls["read"], "writes": calls["write"],
        "calls_per_project_region": round(total / pairs, 3),
        "reads_per_project_region": round(calls["read"] / pairs, 3),
        "writes_per_project_region": round(calls["write"] / pairs, 3),
        "latency_bound_s": round(bound, 2),
        "ratio_to_bound": round(wall / bound, 3) if bound else None,
        "engine_cpu_ms_per_project_region": round(1000 * cpu / pairs, 3),
        "regionsim_cpu_s": round(sim_cpu, 1),
    }


def show(name: str, figures: dict) -> None:
    print(f"  {name:<10} wall {figures['wall_s']:>7.2f} s | calls/project-region "
          f"{figures['calls_per_project_region']:.2f} (reads "
          f"{figures['reads_per_project_region']:.2f}, writes "
          f"{figures['writes_per_project_region']:.2f}) | bound "
          f"{figures['latency_bound_s']:.2f} s, ratio {figures['ratio_to_bound']} | engine CPU "
          f"{figures['engine_cpu_ms_per_project_region']:.2f} ms/project-region, regionsim CPU "
          f"{figures['regionsim_cpu_s']} s", flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    latency = args.latency_ms / 1000
    pairs = args.projects * args.regions
    print(f"sync_scale: {args.projects} projects × {args.regions} regions, "
          f"{args.latency_ms:g} ms injected per call, concurrency {args.concurrency}, "
          f"{args.workers} project workers, allocation {args.allocation}", flush=True)
    results: dict = {"scenario": vars(args)}
    with tempfile.TemporaryDirectory(prefix="kb-sync-scale-") as tmp:
        quiet_logs()
        cloud = Cloud(Path(tmp) / "stack", args.regions)
        kingbird = None
        try:
            started = time.monotonic()
            cloud.start()
            projects = create_projects(cloud, args.projects)
            print(f"  setup: stack and {len(projects)} projects in "
                  f"{time.monotonic() - started:.0f} s", flush=True)
            kingbird = build_kingbird(cloud, Path(tmp), allocation=args.allocation,
                                      concurrency=args.concurrency, sync_interval=60)
            with kingbird.db() as session:
                for project in projects:
                    quota_db.set_project_limits(session, project, LIMITS)
            cloud.set_latency(latency)
            scheduler = kingbird.scheduler(projects, args.workers, sync_interval=0)
            sim_pid = cloud.stack.regionsim.pid
            results["cold"] = measure(kingbird, scheduler, sim_pid, pairs, latency,
                                      args.concurrency)
            show("cold", results["cold"])
            for i in range(args.steady_cycles):
                results[f"steady{i + 1}"] = measure(kingbird, scheduler, sim_pid, pairs,
                                                    latency, args.concurrency)
                show(f"steady {i + 1}", results[f"steady{i + 1}"])
            scheduler.shutdown()
            if args.slow_region:
                results["slow_region"] = slow_region(args, cloud, kingbird, projects, tmp)
        finally:
            if kingbird is not None:
                kingbird.close()
            cloud.stop()
    save(args.out, "sync_scale", results)
    return 0


def slow_region(args, cloud, kingbird, projects, tmp) -> dict:
    """One region answering in SECONDS, the engine's per-call timeout 1 s: the
    other regions' calls go on, the slow one is skipped and its share stays
    reserved."""
    name, _, seconds = args.slow_region.partition("=")
    cloud.set_latency(float(seconds), [name])
    slow = build_kingbird(cloud, Path(tmp), allocation=args.allocation,
                          concurrency=args.concurrency, sync_interval=60, request_timeout=1.0,
                          extra={("regions", "retries"): 0}, db_name="bench-slow")
    try:
        with slow.db() as session:  # same limits, fresh database: write what is known
            for project in projects:
                quota_db.set_project_limits(session, project, LIMITS)
        warm = slow.scheduler(projects, args.workers, sync_interval=0)
        cloud.set_latency(args.latency_ms / 1000, [name])
        run_cycle(warm)  # learn every region's limits while all answer
        cloud.set_latency(float(seconds), [name])
        figures = measure(slow, warm, cloud.stack.regionsim.pid, len(projects) * args.regions,
                          args.latency_ms / 1000, args.concurrency)
        with slow.db() as session:
            outcomes = [(status_db.get_sync_status(session, p) or {}).get("outcome")
                        for p in projects]
            failed = outcomes.count("FAILURE")
        figures["projects_with_region_skipped"] = failed
        print(f"  slow region {name} at {seconds} s (timeout 1 s): {failed} projects synced "
              f"without it", flush=True)
        show("slow", figures)
        warm.shutdown()
        return figures
    finally:
        slow.close()


def save(directory: str, name: str, results: dict) -> None:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"  figures saved to {path}")


if __name__ == "__main__":
    sys.exit(main())
