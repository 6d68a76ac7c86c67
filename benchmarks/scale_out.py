"""Scale-out throughput: sync job entries and project quota syncs per second with
1, 2 and 4 ``kingbird-engine`` processes, printed side by side.

Everything is real and separate processes: Keystone, regionsim (``--regions``
regions, ``--latency-ms`` added to every regional call, as a WAN would), a
private PostgreSQL, the API under gunicorn, and the engines coordinated through
tooz on that PostgreSQL (``kingbird.demo.scaleout``). For each engine count:

- jobs: ``--jobs`` keypair jobs, each to two target regions, are recorded in one
  transaction while the engines idle; the clock runs until every entry is
  finished. Figures: entries/s and jobs/s.
- projects: an on-demand sync of every one of ``--projects`` projects is
  requested in one transaction; the clock runs until each was synced (limits
  unchanged: reads only, as in the steady state). Figure: project syncs/s.

    .venv/bin/python benchmarks/scale_out.py
    .venv/bin/python benchmarks/scale_out.py --jobs 300 --projects 300 --latency-ms 50

The figures are saved as JSON in ``--out``. On a 2-core machine regionsim and the
engines share the cores, so the gain flattens once the CPU is busy; with real
latency (``--latency-ms``) engines spend most of their time waiting, and more
engines keep more calls in flight.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.demo.scaleout import ScaleOutSettings, ScaleOutStack
from kingbird.quota import status_repository as status_db
from kingbird.sync import repository as jobs_db

PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGEnRiuJCONvtghEd8rDXeLGxWRz06DJLaRk2D/FIrYp"
              " kingbird-bench")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="1,2,4", help="engine counts to compare")
    parser.add_argument("--jobs", type=int, default=120, help="keypair jobs per round")
    parser.add_argument("--projects", type=int, default=120)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0,
                        help="latency added to every call to a region")
    parser.add_argument("--workers", type=int, default=4, help="[engine] job_workers")
    parser.add_argument("--out", default="benchmarks/results",
                        help="directory where the figures are saved as JSON")
    return parser.parse_args(argv)


class Bench:
    def __init__(self, stack: ScaleOutStack):
        self.stack = stack
        rc = {}
        for line in Path(stack.summary()["admin_openrc"]).read_text().splitlines():
            key, _, value = line[len("export "):].partition("=")
            rc[key] = value
        self.admin = ks_session.Session(auth=v3.Password(
            auth_url=rc["OS_AUTH_URL"], username=rc["OS_USERNAME"],
            password=rc["OS_PASSWORD"], project_name="admin", user_domain_name="Default",
            project_domain_name="Default"))
        self.identity = {"service_type": "identity", "interface": "public"}
        self.db = stack.db()
        self.regions = stack.stack.region_names

    def project_id(self, name: str) -> str:
        return self.admin.get(f"/projects?name={name}",
                              endpoint_filter=self.identity).json()["projects"][0]["id"]

    def kingbird(self, method: str, path: str, **kwargs):
        answer = requests.request(method, self.stack.kingbird_root + path, timeout=60,
                                  headers={"X-Auth-Token": self.admin.get_token()}, **kwargs)
        answer.raise_for_status()
        return answer

    def compute(self, region: str, method: str, path: str, **kwargs):
        return self.admin.request(path, method, endpoint_filter={
            "service_type": "compute", "interface": "public", "region_name": region},
            **kwargs)

    def wait(self, predicate, timeout: float, what: str, interval: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not done after {timeout} s")
            time.sleep(interval)

    def setup(self, projects: int, keypairs: int) -> tuple[list[str], list[str]]:
        """Unlimited key pairs, the projects (synced once), the keypairs to copy."""
        engine = self.stack.start_engine("setup")
        try:
            roomy = [self.project_id("admin"), self.project_id("service")]
            for project in roomy:
                self.kingbird("PUT", f"/v1.1/os-quota-sets/{project}",
                              json={"quota_set": {"key_pairs": -1}})
            self.wait(lambda: all(
                self.compute(r, "GET", f"/os-quota-sets/{p}").json()["quota_set"]["key_pairs"]
                == -1 for r in self.regions for p in roomy), 120, "unlimited key pairs")

            def create_project(i):
                return self.admin.post("/projects", endpoint_filter=self.identity, json={
                    "project": {"name": f"bench-{i}-{time.time_ns()}",
                                "domain_id": "default"}}).json()["project"]["id"]

            def create_keypair(i):
                name = f"bench-kp-{i}-{time.time_ns()}"
                self.compute(self.regions[0], "POST", "/os-keypairs",
                             json={"keypair": {"name": name, "public_key": PUBLIC_KEY}})
                return name

            with cf.ThreadPoolExecutor(8) as pool:
                project_ids = list(pool.map(create_project, range(projects)))
                names = list(pool.map(create_keypair, range(keypairs)))
            self.request_syncs(project_ids)
            self.wait(lambda: self.synced_since(project_ids, None), 600, "the first syncs")
        finally:
            self.stack.kill_engine(engine, signal.SIGTERM)
        return project_ids, names

    def request_syncs(self, project_ids: list[str]) -> dt.datetime:
        started = dt.datetime.now(dt.UTC)
        with self.db() as session:
            for project in project_ids:
                status_db.request_project_sync(session, project)
        return started

    def synced_since(self, project_ids: list[str], since: dt.datetime | None) -> bool:
        with self.db() as session:
            for project in project_ids:
                status = status_db.get_sync_status(session, project)
                if status is None or status["requested_at"] is not None \
                        or status["last_sync_at"] is None \
                        or (since is not None and status["last_sync_at"] < since):
                    return False
        return True

    def run_jobs(self, names: list[str]) -> tuple[float, int]:
        admin_project = self.project_id("admin")
        user_id = self.admin.get_user_id()
        targets = self.regions[1:3]
        with self.db() as session:
            job_ids = [jobs_db.create_job(session, admin_project, user_id, [
                {"resource": name, "resource_type": "keypair", "source_region": self.regions[0],
                 "target_region": target} for target in targets],
                request_id=f"req-bench-{i}")["id"] for i, name in enumerate(names)]
        started = time.monotonic()

        def done():
            with self.db() as session:
                statuses = [e["status"] for j in job_ids
                            for e in jobs_db.get_job_entries(session, j)]
            failed = statuses.count("FAILURE")
            if failed:
                raise RuntimeError(f"{failed} entries failed")
            return all(s == "SUCCESS" for s in statuses)

        self.wait(done, 600, "the jobs", interval=0.1)
        return time.monotonic() - started, len(job_ids) * len(targets)

    def run_projects(self, project_ids: list[str]) -> float:
        since = self.request_syncs(project_ids)
        started = time.monotonic()
        self.wait(lambda: self.synced_since(project_ids, since), 600, "the project syncs",
                  interval=0.1)
        return time.monotonic() - started


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    counts = [int(n) for n in args.engines.split(",")]
    results: dict = {"scenario": vars(args), "rounds": []}
    with tempfile.TemporaryDirectory(prefix="kingbird-bench-") as tmp:
        stack = ScaleOutStack(ScaleOutSettings(
            state_dir=Path(tmp) / "stack", regions=args.regions, engines=0, api_workers=2,
            sync_interval=3600, lease_seconds=30, job_workers=args.workers,
            poll_interval=0.2))
        try:
            print("starting Keystone, regionsim, PostgreSQL, the API...", flush=True)
            stack.start()
            bench = Bench(stack)
            if args.latency_ms:
                for region in bench.regions:
                    requests.put(stack.summary()["regionsim_control_url"]
                                 + f"/regions/{region}/faults", timeout=30,
                                 json={"latency": args.latency_ms / 1000},
                                 headers={"X-Auth-Token": bench.admin.get_token()}
                                 ).raise_for_status()
            print(f"creating {args.projects} projects and {args.jobs * len(counts)} "
                  "keypairs...", flush=True)
            projects, names = bench.setup(args.projects, args.jobs * len(counts))
            for index, count in enumerate(counts):
                engines = [stack.start_engine(f"bench{count}-{i}") for i in range(count)]
                try:
                    seconds, entries = bench.run_jobs(
                        names[index * args.jobs:(index + 1) * args.jobs])
                    sync_seconds = bench.run_projects(projects)
                finally:
                    for engine in engines:
                        stack.kill_engine(engine, signal.SIGTERM)
                row = {"engines": count, "jobs_per_s": round(args.jobs / seconds, 1),
                       "entries_per_s": round(entries / seconds, 1),
                       "project_syncs_per_s": round(args.projects / sync_seconds, 1),
                       "jobs_seconds": round(seconds, 2),
                       "projects_seconds": round(sync_seconds, 2)}
                results["rounds"].append(row)
                print(f"  {count} engine(s): {row['jobs_per_s']} jobs/s, "
                      f"{row['project_syncs_per_s']} project syncs/s", flush=True)
        finally:
            stack.stop()
    show(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "scale_out.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"saved {path}")
    return 0


def show(results: dict) -> None:
    rows = results["rounds"]
    base = rows[0]
    s = results["scenario"]
    print(f"\n{s['jobs']} keypair jobs (x2 targets) and {s['projects']} project syncs, "
          f"{s['regions']} regions, {s['latency_ms']:.0f} ms per regional call, "
          f"{s['workers']} workers per engine\n")
    print(f"{'engines':>8} {'jobs/s':>8} {'entries/s':>10} {'speed-up':>9} "
          f"{'syncs/s':>8} {'speed-up':>9}")
    for row in rows:
        print(f"{row['engines']:>8} {row['jobs_per_s']:>8} {row['entries_per_s']:>10} "
              f"{row['jobs_per_s'] / base['jobs_per_s']:>8.2f}x "
              f"{row['project_syncs_per_s']:>8} "
              f"{row['project_syncs_per_s'] / base['project_syncs_per_s']:>8.2f}x")


if __name__ == "__main__":
    sys.exit(main())
