"""Offline replay of the escrow policy: many seeds in seconds, no servers.

``quota_contention.py`` measures the policy for real (Keystone, regionsim, HTTP,
threads) but takes four minutes per seed. This replays the same seeded arrival
streams (``quota_contention.arrivals``) through a discrete-event model of the
regions' quota enforcement, calling Kingbird's own pure functions
(``escrow.plan``, ``demand.observe``, ``contention.contended_keys``) at every
sync, so that tuning choices can be compared over many seeds at once. The model:

- a region admits a create iff its usage plus the server stays within its limits
  in force (instances and cores), as regionsim's Nova does;
- a server is deleted its lifetime after its admission (deletes stop at the end,
  as in the real benchmark);
- Kingbird reads every region at each sync instant and its writes land ``--lag``
  seconds later, decreases first, then the increases, cut down to what the usage
  read again allows (``escrow.settle_increases``), as ``EscrowSync`` does;
- the next sync comes ``--sync-interval`` after the writes, or
  ``--contended-interval`` when the sync found the project contended
  (``contention.contended_keys``), as the engine's scheduler does.

``--known-rates`` tells escrow each region's true arrival rate instead of its
estimate: a reference for what a perfect demand estimate would give.

Printed: admitted creates as % of the oracle's per seed, their mean and minimum,
the syncs per run, and the largest global usage seen (it must never exceed the
limit).

    .venv/bin/python benchmarks/escrow_replay.py --seeds 1-20
    .venv/bin/python benchmarks/escrow_replay.py --seeds 1-20 --regions 5 --floor 0.2
"""

from __future__ import annotations

import argparse
import heapq
import statistics
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from quota_contention import Arrival, arrivals, oracle, rate_at, split_at

from kingbird.quota import contention, demand, escrow
from kingbird.quota.scheduler import contended_interval

KEYS = ("instances", "cores")

NOVA_DEFAULTS = {"instances": 10, "cores": 20}  # a new project's limits in a region


@dataclass
class Region:
    """One region's usage and limits in force, as its Nova would see them."""

    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KEYS, 0))
    limits: dict[str, int] = field(default_factory=lambda: dict(NOVA_DEFAULTS))

    def admits(self, vcpus: int) -> bool:
        return (self.usage["instances"] + 1 <= self.limits["instances"]
                and self.usage["cores"] + vcpus <= self.limits["cores"])

    def add(self, vcpus: int, sign: int) -> None:
        self.usage["instances"] += sign
        self.usage["cores"] += sign * vcpus


@dataclass
class Memory:
    """What escrow remembers of a region between syncs (``region_quota_state``)."""

    at: float
    usage: dict[str, int]
    rates: dict[str, float]


class Replay:
    """One run of a stream under escrow, in simulated time."""

    def __init__(self, names: list[str], global_limits: dict[str, int],
                 settings: escrow.EscrowSettings, half_life: float, threshold: float,
                 known_rates: Callable[[float], dict[str, dict[str, float]]] | None = None):
        self.regions = {name: Region() for name in names}
        self.threshold = threshold
        self.known_rates = known_rates
        self.global_limits = global_limits
        self.settings = settings
        self.half_life = half_life
        self.memory: dict[str, Memory] = {}
        self.peak = dict.fromkeys(KEYS, 0)
        self.admitted = 0
        self.syncs = 0

    def plan(self, now: float) -> tuple[dict[str, dict[str, int]], list[str]]:
        """The limits escrow decides from what it reads at ``now``, and the keys
        that make the project contended."""
        usage = {n: dict(r.usage) for n, r in self.regions.items()}
        limits = {n: dict(r.limits) for n, r in self.regions.items()}
        contended = contention.contended_keys(
            self.global_limits, usage, {n: m.usage for n, m in self.memory.items()}, {},
            self.threshold)
        known = self.known_rates(now) if self.known_rates else None
        rates = {}
        for name in self.regions:
            old = self.memory.get(name)
            rates[name] = known[name] if known else {
                key: demand.observe(old.rates[key] if old else 0.0,
                                    old.usage[key] if old else None, usage[name][key],
                                    limits[name].get(key, -1),
                                    now - old.at if old else 0.0, self.half_life)
                for key in KEYS}
            self.memory[name] = Memory(now, usage[name], rates[name])
        desired = escrow.plan(self.global_limits, usage, limits, rates, {}, self.settings)
        return desired, contended

    def apply(self, read: dict[str, dict[str, int]], desired: dict[str, dict[str, int]]
              ) -> None:
        """Decreases, then the increases that still fit (usage moved since the read)."""
        before = {n: dict(r.limits) for n, r in self.regions.items()}
        decreases, increases = escrow.split_phases(before, desired)
        for name, per in decreases.items():
            self.regions[name].limits.update(per)
        for key in KEYS:
            planned = {n: per[key] for n, per in increases.items() if key in per}
            if not planned:
                continue
            decreased = {n: (per[key], self.regions[n].usage[key])
                         for n, per in decreases.items() if key in per}
            kept = escrow.settle_increases(
                self.global_limits[key], 0, {n: before[n][key] for n in before},
                {n: read[n][key] for n in read}, decreased, planned)
            for name, value in kept.items():
                self.regions[name].limits[key] = value

    def record_peak(self) -> None:
        for key in KEYS:
            self.peak[key] = max(self.peak[key],
                                 sum(r.usage[key] for r in self.regions.values()))


@dataclass(frozen=True)
class Cadence:
    """When Kingbird syncs: ``interval`` seconds after the end of the last sync, or
    ``contended`` seconds when that sync found the project contended (None: never
    sooner); each sync's writes are in force ``lag`` seconds after its read."""

    interval: float
    contended: float | None
    lag: float


def replay(stream: list[Arrival], names: list[str], global_limits: dict[str, int],
           duration: float, cadence: Cadence, settings: escrow.EscrowSettings,
           half_life: float, threshold: float,
           known_rates: Callable[[float], dict[str, dict[str, float]]] | None = None
           ) -> Replay:
    """Play ``stream`` against escrow syncing at ``cadence``; with ``known_rates``
    (time → region → key → rate), escrow is told the true demand instead of
    estimating it."""
    run = Replay(names, global_limits, settings, half_life, threshold, known_rates)
    # the first sync, before the load starts: the headroom split equally
    run.apply({n: dict(r.usage) for n, r in run.regions.items()},
              run.plan(-cadence.interval)[0])
    events: list[tuple[float, int, int, tuple]] = []
    order = iter(range(10**9))
    for arrival in stream:
        heapq.heappush(events, (arrival.at, 1, next(order), ("create", arrival)))
    heapq.heappush(events, (0.0, 0, next(order), ("sync",)))
    while events:
        now, _, _, event = heapq.heappop(events)
        if event[0] == "create":
            arrival = event[1]
            region = run.regions[arrival.region]
            if region.admits(arrival.vcpus):
                region.add(arrival.vcpus, +1)
                run.record_peak()
                if now + arrival.lifetime < duration:
                    heapq.heappush(events, (now + arrival.lifetime, 0, next(order),
                                            ("delete", arrival)))
                run.admitted += 1
        elif event[0] == "delete":
            run.regions[event[1].region].add(event[1].vcpus, -1)
        elif event[0] == "sync":
            read = {n: dict(r.usage) for n, r in run.regions.items()}
            desired, contended = run.plan(now)
            heapq.heappush(events, (now + cadence.lag, 0, next(order),
                                    ("write", read, desired)))
            run.syncs += 1
            wait = cadence.contended if contended and cadence.contended else cadence.interval
            if now + cadence.lag + wait < duration:
                heapq.heappush(events, (now + cadence.lag + wait, 0, next(order), ("sync",)))
        else:
            run.apply(event[1], event[2])
    return run


def true_rates(names: list[str], rate: float, phase: float,
               now: float) -> dict[str, dict[str, float]]:
    """Each region's arrival rate at ``now`` (cores: 1.5 vCPUs per server on average)."""
    weights = split_at(max(now, 0.0), names, phase)
    total = rate_at(max(now, 0.0), rate, phase)
    return {name: {"instances": total * w / sum(weights),
                   "cores": 1.5 * total * w / sum(weights)}
            for name, w in zip(names, weights, strict=True)}


def seeds_of(text: str) -> list[int]:
    """``"1-5,9"`` → ``[1, 2, 3, 4, 5, 9]``."""
    out: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return out


def parse_args(argv: Iterable[str] | None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1-20")
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--cores", type=int, default=150)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--rate", type=float)
    parser.add_argument("--lifetime", type=float, default=30.0)
    parser.add_argument("--phase", type=float, default=20.0)
    parser.add_argument("--sync-interval", type=float, default=2.0)
    parser.add_argument("--lag", type=float, default=0.05,
                        help="seconds from a sync's read until its writes are in force")
    parser.add_argument("--floor", type=float, default=escrow.EscrowSettings.floor)
    parser.add_argument("--tolerance", type=float, default=escrow.EscrowSettings.tolerance)
    parser.add_argument("--half-life", type=float, help="default: two sync intervals")
    parser.add_argument("--contended-interval", type=float,
                        help="default: a quarter of the sync interval; 0: never sooner")
    parser.add_argument("--contention-threshold", type=float, default=0.8)
    parser.add_argument("--known-rates", action="store_true",
                        help="tell escrow the true arrival rates instead of its estimate "
                        "(a reference: what a perfect demand estimate would give)")
    return parser.parse_args(argv)


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    rate = args.rate or round(1.3 * args.instances / args.lifetime, 3)
    names = [f"Region{i}" for i in range(1, args.regions + 1)]
    limits = {"instances": args.instances, "cores": args.cores}
    settings = escrow.EscrowSettings(floor=args.floor, tolerance=args.tolerance)
    half_life = args.half_life or 2 * args.sync_interval
    sooner = contended_interval(args.contended_interval, args.sync_interval) \
        if args.contended_interval != 0 else None
    cadence = Cadence(args.sync_interval, sooner, args.lag)
    print(f"escrow_replay: {args.regions} regions, {args.instances} instances / {args.cores} "
          f"cores, rate {rate:g}/s, lifetime ~{args.lifetime:g} s, sync every "
          f"{args.sync_interval:g} s, {sooner or args.sync_interval:g} s while contended "
          f"(usage >= {args.contention_threshold:g} of the limit; writes in force "
          f"{args.lag:g} s after the read), floor "
          f"{args.floor:g}, tolerance {args.tolerance:g}, "
          + ("true arrival rates as demand" if args.known_rates
             else f"demand half-life {half_life:g} s"))
    shares, syncs, worst = [], [], {k: 0 for k in KEYS}
    for seed in seeds_of(args.seeds):
        stream = arrivals(names, args.duration, rate, args.lifetime, args.phase, seed)
        best = oracle(stream, args.instances, args.cores)
        known = partial(true_rates, names, rate, args.phase) if args.known_rates else None
        run = replay(stream, names, limits, args.duration, cadence, settings, half_life,
                     args.contention_threshold, known)
        shares.append(100 * run.admitted / best)
        syncs.append(run.syncs)
        worst = {k: max(worst[k], run.peak[k]) for k in KEYS}
        print(f"  seed {seed:>3}: {run.admitted} / {best} = {shares[-1]:.1f} %, {run.syncs} syncs")
    print(f"  mean {statistics.fmean(shares):.1f} %, min {min(shares):.1f} %, "
          f"runs under 95 %: {sum(s < 95 for s in shares)} of {len(shares)}; "
          f"{statistics.fmean(syncs):.0f} syncs per run; "
          f"peak usage {worst['instances']} instances, {worst['cores']} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
