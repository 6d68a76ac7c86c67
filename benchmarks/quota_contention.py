"""Global limit under contention: classic vs escrow vs an oracle.

One project has a global limit of ``--instances`` instances and ``--cores`` cores.
A load generator per region creates servers (1 or 2 vCPUs) and deletes each after
a random lifetime, at rates skewed between regions that change every ``--phase``
seconds; regionsim's Nova admits or refuses each create against the regional limit
in force (403 over quota), exactly as a real Nova would. Kingbird's engine, in this
process, syncs the project every ``--sync-interval`` seconds.

The same arrival sequence (seeded) runs under each policy, each on a fresh
project, and is replayed against an oracle: one central counter admitting a
create iff the global usage allows it. Policies: ``classic``; ``escrow`` as
configured by default, which syncs a contended project (usage near its global
limit and moving) every ``--contended-interval`` seconds; ``escrow-periodic``,
escrow syncing every ``--sync-interval`` whatever the contention.

Printed per policy:

- maximum overshoot over the global limit (instances, cores). Usage is measured
  from the generator's side as an upper bound (a server counts from the moment its
  create is sent until its delete is answered) and a lower bound (from the create's
  answer until the delete is sent): the true usage lies between;
- creates admitted, as % of what the oracle admits;
- Kingbird's HTTP calls to the regions (reads, writes), counted on its side.

Targets (issue 6): escrow overshoot 0 in every run; classic overshoot shown; escrow
admits >= 95 % of what the oracle admits.

    .venv/bin/python benchmarks/quota_contention.py
    .venv/bin/python benchmarks/quota_contention.py --regions 5 --seed 7 --duration 90
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import heapq
import json
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import Cloud, build_kingbird, quiet_logs, run_cycle

from kingbird.engine.service import Engine
from kingbird.quota import repository as quota_db
from kingbird.quota.scheduler import contended_interval

MICROVERSION = {"OpenStack-API-Version": "compute 2.37", "X-OpenStack-Nova-API-Version": "2.37"}


@dataclass(frozen=True)
class Arrival:
    at: float  # seconds from the start
    region: str
    vcpus: int
    lifetime: float


MULTIPLIERS = (1.0, 1.6, 0.6, 1.3)  # of the total rate, phase after phase


def split_at(t: float, regions: list[str], phase: float) -> list[float]:
    """Each region's weight in the arrivals at time ``t``: one region takes most,
    the others a decreasing share, rotating every phase."""
    skew = [1 / (i + 1) ** 1.5 for i in range(len(regions))]
    shift = (int(t // phase) * 2) % len(regions)
    return skew[-shift:] + skew[:-shift] if shift else skew


def rate_at(t: float, rate: float, phase: float) -> float:
    """The total arrival rate at time ``t``."""
    return rate * MULTIPLIERS[int(t // phase) % len(MULTIPLIERS)]


def arrivals(regions: list[str], duration: float, rate: float, lifetime: float, phase: float,
             seed: int) -> list[Arrival]:
    """A Poisson stream whose split between regions (and total rate) changes every
    phase (``split_at``, ``rate_at``)."""
    rng = random.Random(seed)
    out, t = [], 0.0
    while True:
        t += rng.expovariate(rate_at(t, rate, phase))
        if t >= duration:
            return out
        region = rng.choices(regions, split_at(t, regions, phase))[0]
        out.append(Arrival(t, region, rng.choice((1, 2)), rng.expovariate(1 / lifetime)))


def oracle(stream: list[Arrival], instances: int, cores: int) -> int:
    """Creates admitted by one central counter of the global usage."""
    ends: list[tuple[float, int]] = []
    used_i = used_c = admitted = 0
    for a in stream:
        while ends and ends[0][0] <= a.at:
            _, vcpus = heapq.heappop(ends)
            used_i, used_c = used_i - 1, used_c - vcpus
        if used_i + 1 <= instances and used_c + a.vcpus <= cores:
            used_i, used_c, admitted = used_i + 1, used_c + a.vcpus, admitted + 1
            heapq.heappush(ends, (a.at + a.lifetime, a.vcpus))
    return admitted


@dataclass
class Server:
    vcpus: int
    create_sent: float
    create_answered: float
    delete_sent: float | None = None
    delete_answered: float | None = None


@dataclass
class Outcome:
    servers: list[Server] = field(default_factory=list)
    refused: int = 0
    errors: int = 0


class Tenant:
    """A fresh project and member user; boots and deletes through the regions' Nova."""

    def __init__(self, cloud: Cloud, name: str, images: dict[str, str],
                 flavors: dict[str, dict[int, str]]):
        prov = cloud.stack.keystone.provisioner()
        self.project_id = prov.ensure_project(name)
        prov.ensure_user(f"{name}-user", "bench-secret", name, role="member")
        self.session = cloud.user_session(f"{name}-user", "bench-secret", name)
        self.images, self.flavors = images, flavors

    def _nova(self, region: str) -> dict:
        return {"service_type": "compute", "region_name": region, "interface": "public"}

    def create(self, region: str, vcpus: int) -> tuple[int, str | None]:
        body = {"server": {"name": "load", "imageRef": self.images[region],
                           "flavorRef": self.flavors[region][vcpus], "networks": "none"}}
        answer = self.session.post("/servers", json=body, endpoint_filter=self._nova(region),
                                   headers=MICROVERSION, raise_exc=False)
        server_id = answer.json()["server"]["id"] if answer.status_code == 202 else None
        return answer.status_code, server_id

    def delete(self, region: str, server_id: str) -> None:
        self.session.delete(f"/servers/{server_id}", endpoint_filter=self._nova(region),
                            raise_exc=False)


def drive(tenant: Tenant, stream: list[Arrival], duration: float) -> Outcome:
    """Play the stream in real time: creates at their arrival time, each delete
    its lifetime after the create was answered."""
    outcome = Outcome()
    lock = threading.Lock()
    deletes: list[tuple[float, int, str, str, Server]] = []
    start = time.monotonic()
    counter = iter(range(10**9))

    def create(a: Arrival) -> None:
        sent = time.monotonic() - start
        status, server_id = tenant.create(a.region, a.vcpus)
        answered = time.monotonic() - start
        with lock:
            if status == 202:
                server = Server(a.vcpus, sent, answered)
                outcome.servers.append(server)
                heapq.heappush(deletes, (answered + a.lifetime, next(counter), a.region,
                                         server_id, server))
            elif status == 403:
                outcome.refused += 1
            else:
                outcome.errors += 1

    def delete(region: str, server_id: str, server: Server) -> None:
        server.delete_sent = time.monotonic() - start
        tenant.delete(region, server_id)
        server.delete_answered = time.monotonic() - start

    with cf.ThreadPoolExecutor(32) as pool:
        pending = list(stream)
        while True:
            now = time.monotonic() - start
            while pending and pending[0].at <= now:
                pool.submit(create, pending.pop(0))
            with lock:
                while deletes and deletes[0][0] <= now and now < duration:
                    _, _, region, server_id, server = heapq.heappop(deletes)
                    pool.submit(delete, region, server_id, server)
            if now >= duration and not pending:
                break
            time.sleep(0.005)
    # clean up what is left (not measured)
    with cf.ThreadPoolExecutor(16) as pool:
        for _, _, region, server_id, _server in deletes:
            pool.submit(tenant.delete, region, server_id)
    return outcome


def peak(servers: list[Server], duration: float, upper: bool) -> tuple[int, int]:
    """Largest global (instances, cores) in use, counting each server over its
    widest (``upper``) or narrowest interval."""
    events = []
    for s in servers:
        begin = s.create_sent if upper else s.create_answered
        end = s.delete_answered if upper else s.delete_sent
        end = duration if end is None else end
        if end > begin:
            # at equal times: begins first for the upper bound, ends first for the lower
            events.append((begin, 0 if upper else 1, 1, s.vcpus))
            events.append((end, 1 if upper else 0, -1, -s.vcpus))
    events.sort()
    inst = cores = best_i = best_c = 0
    for _, _, di, dc in events:
        inst, cores = inst + di, cores + dc
        best_i, best_c = max(best_i, inst), max(best_c, cores)
    return best_i, best_c


def count_syncs(syncer) -> list[int]:
    """Counts the project syncs from now on, in a one-item list."""
    count = [0]
    sync = syncer.sync

    def counted(*args, **kwargs):
        count[0] += 1
        return sync(*args, **kwargs)

    syncer.sync = counted
    return count


POLICIES = {  # name → (allocation, syncs contended projects sooner)
    "classic": ("classic", False),
    "escrow": ("escrow", True),
    "escrow-periodic": ("escrow", False),
}


def run_policy(args, cloud: Cloud, tmp: Path, policy: str, stream: list[Arrival],
               images, flavors) -> dict:
    allocation, sooner = POLICIES[policy]
    tenant = Tenant(cloud, f"contention-{policy}-{args.seed}", images, flavors)
    kingbird = build_kingbird(cloud, tmp, allocation=allocation, concurrency=16,
                              sync_interval=args.sync_interval, db_name=f"bench-{policy}")
    try:
        with kingbird.db() as session:
            # RAM unlimited: the contention studied is on instances and cores
            quota_db.set_project_limits(session, tenant.project_id,
                                        {"instances": args.instances, "cores": args.cores,
                                         "ram": -1})
        scheduler = kingbird.scheduler(
            [tenant.project_id], workers=2, sync_interval=args.sync_interval,
            contended_interval=args.contended_interval if sooner else None)
        run_cycle(scheduler)  # regional limits in place before the load starts
        syncs = count_syncs(kingbird.syncer)
        before = kingbird.counter.snapshot()
        engine = Engine([scheduler], poll_interval=0.1)
        engine.start()
        try:
            outcome = drive(tenant, stream, args.duration)
        finally:
            engine.stop()
        calls = kingbird.counter.region_calls(before)
    finally:
        kingbird.close()
    hi_i, hi_c = peak(outcome.servers, args.duration, upper=True)
    lo_i, lo_c = peak(outcome.servers, args.duration, upper=False)
    return {
        "admitted": len(outcome.servers), "refused": outcome.refused, "errors": outcome.errors,
        "peak_instances": [lo_i, hi_i], "peak_cores": [lo_c, hi_c],
        "overshoot_instances": [max(lo_i - args.instances, 0), max(hi_i - args.instances, 0)],
        "overshoot_cores": [max(lo_c - args.cores, 0), max(hi_c - args.cores, 0)],
        "sync_reads": calls["read"], "sync_writes": calls["write"],
        "syncs": syncs[0],
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regions", type=int, default=3, help="3 to 5")
    parser.add_argument("--instances", type=int, default=100, help="global instances limit")
    parser.add_argument("--cores", type=int, default=150, help="global cores limit")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per policy")
    parser.add_argument("--rate", type=float, help="creates per second, all regions, times "
                        "0.6 to 1.6 by phase (default: 1.3 × instances ÷ lifetime, an "
                        "offered load of 130 %% of the limit at ×1)")
    parser.add_argument("--lifetime", type=float, default=30.0, help="mean server lifetime, s")
    parser.add_argument("--phase", type=float, default=20.0, help="seconds between changes "
                        "of the split between regions")
    parser.add_argument("--sync-interval", type=float, default=2.0)
    parser.add_argument("--contended-interval", type=float, help="seconds between syncs "
                        "of a contended project under escrow (default: a quarter of "
                        "--sync-interval, as [quota] contended_sync_interval)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policies", default="classic,escrow-periodic,escrow",
                        help=f"comma-separated, of {', '.join(POLICIES)}")
    parser.add_argument("--out", default="benchmarks/results")
    parser.add_argument("--log", help="write Kingbird's log (INFO) to this file")
    return parser.parse_args(argv)


def prepare(cloud: Cloud) -> tuple[dict, dict]:
    """A public image and flavors of 1 and 2 vCPUs in every region."""
    images, flavors = {}, {}
    admin = cloud.admin_session()
    for region in cloud.regions:
        glance = {"service_type": "image", "region_name": region, "interface": "public"}
        image = admin.post("/v2/images", endpoint_filter=glance, json={
            "name": "contention", "disk_format": "raw", "container_format": "bare",
            "visibility": "public"}).json()
        admin.put(f"/v2/images/{image['id']}/file", endpoint_filter=glance, data=b"c" * 64,
                  headers={"Content-Type": "application/octet-stream"})
        images[region] = image["id"]
        nova = {"service_type": "compute", "region_name": region, "interface": "public"}
        flavors[region] = {}
        for vcpus in (1, 2):
            answer = admin.post("/flavors", endpoint_filter=nova, json={"flavor": {
                "name": f"bench.{vcpus}cpu", "vcpus": vcpus, "ram": 256, "disk": 1}})
            flavors[region][vcpus] = answer.json()["flavor"]["id"]
    return images, flavors


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.rate is None:
        args.rate = round(1.3 * args.instances / args.lifetime, 3)
    if args.contended_interval is None:
        args.contended_interval = contended_interval(None, args.sync_interval)
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = sorted(set(policies) - set(POLICIES))
    if unknown:
        raise SystemExit(f"unknown policies: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="kb-contention-") as tmp:
        quiet_logs(Path(args.log) if args.log else None)
        cloud = Cloud(Path(tmp) / "stack", args.regions)
        try:
            cloud.start()
            stream = arrivals(cloud.regions, args.duration, args.rate, args.lifetime,
                              args.phase, args.seed)
            best = oracle(stream, args.instances, args.cores)
            print(f"quota_contention: {args.regions} regions, global limit {args.instances} "
                  f"instances / {args.cores} cores, {len(stream)} creates over "
                  f"{args.duration:g} s (rate {args.rate:g}/s ×0.6–1.6, skewed split rotating "
                  f"every {args.phase:g} s, lifetime ~{args.lifetime:g} s, seed {args.seed}), "
                  f"Kingbird sync every {args.sync_interval:g} s (escrow: every "
                  f"{args.contended_interval:g} s while contended)", flush=True)
            print(f"  oracle admits {best} creates", flush=True)
            images, flavors = prepare(cloud)
            results = {"scenario": vars(args), "creates": len(stream), "oracle_admitted": best}
            for policy in policies:
                figures = run_policy(args, cloud, Path(tmp), policy, stream, images, flavors)
                figures["admitted_pct_of_oracle"] = round(100 * figures["admitted"] / best, 1)
                results[policy] = figures
                oi, oc = figures["overshoot_instances"], figures["overshoot_cores"]
                print(f"  {policy:<15} max overshoot: instances {oi[0]}–{oi[1]}, cores "
                      f"{oc[0]}–{oc[1]} | admitted {figures['admitted']} = "
                      f"{figures['admitted_pct_of_oracle']}% of oracle | sync calls "
                      f"{figures['sync_reads']} reads, {figures['sync_writes']} writes "
                      f"({figures['syncs']} syncs) | errors {figures['errors']}", flush=True)
        finally:
            cloud.stop()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"quota_contention-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"  figures saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
