"""Star identity figures: local token validation, master-site outage, replication lag.

Scenario: the star topology of ``kingbird-demo --identity star`` (PostgreSQL
primary and a streaming standby; Keystone A on the primary for RegionOne,
Keystone B on the standby for RegionTwo, read-only; regionsim validating each
region's tokens at its own Keystone; Kingbird and its agents), on one machine.

1. Validation latency in RegionTwo. (a) Keystone alone: a service validates a
   user token (GET /v3/auth/tokens) at B, or at A through a TCP proxy that
   delays every byte by half the WAN round trip each way (``--wan-rtt-ms``).
   (b) What a user sees: GET /compute/v2.1/flavors in RegionTwo with a fresh
   token (so auth_token must validate it), once with RegionTwo's regionsim
   validating at B, once with a second RegionTwo regionsim validating at A
   through the proxy.
2. Master-site outage: Keystone A and the primary stopped (the primary as if it
   crashed); for ``--outage-seconds`` a loop issues a token at B, validates it at
   B and calls RegionTwo's compute API with it. Counted: what succeeded.
3. Replication lag under a burst of ``--writes`` writes at the master (half
   project creations, half role assignments, through Keystone A's API, 8 at a
   time): the standby's replay lag sampled every 20 ms on the primary
   (pg_stat_replication), and for every 25th project the time from A's answer
   until the project is readable on the standby.

Not run by the test suite: ``.venv/bin/python benchmarks/identity_star.py``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from kingbird.demo.stack import DEMO_PROJECT, DEMO_USER, SERVICE_PROJECT
from kingbird.demo.star import StarSettings, StarStack
from regionsim.topology import free_port

HERE = Path(__file__).resolve().parent


# --- a WAN in a box ---------------------------------------------------------------------

class DelayProxy:
    """TCP proxy to ``target`` adding ``delay`` seconds to every byte, each way.

    Each chunk is stamped when read and written once its time has come, so a
    long response is delayed once, not once per chunk.
    """

    def __init__(self, target: tuple[str, int], delay: float):
        self.target = target
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()

    def start(self) -> DelayProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            # Latency only: no Nagle holding a small write back for an ACK.
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for src, dst in ((client, server), (server, client)):
                pending: queue.Queue = queue.Queue()
                threading.Thread(target=self._read, args=(src, pending), daemon=True).start()
                threading.Thread(target=self._write, args=(dst, pending), daemon=True).start()

    def _read(self, src: socket.socket, pending: queue.Queue) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            pending.put((time.monotonic() + self.delay, data))
            if not data:
                return

    def _write(self, dst: socket.socket, pending: queue.Queue) -> None:
        while True:
            due, data = pending.get()
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
            except OSError:
                return


# --- helpers ----------------------------------------------------------------------------

def issue(url: str, user: str, password: str, project: str, session=requests) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    answer = session.post(f"{url}/auth/tokens?nocatalog", json=body, timeout=30)
    answer.raise_for_status()
    return answer.headers["X-Subject-Token"]


def summary_ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "mean_ms": round(statistics.mean(ordered) * 1000, 2),
            "p50_ms": round(pick(0.5) * 1000, 2), "p95_ms": round(pick(0.95) * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


def start_wan_regionsim(stack: StarStack, proxy_url: str, region: str) -> tuple[subprocess.Popen,
                                                                                 str]:
    """A second regionsim serving ``region`` whose auth_token validates at ``proxy_url``."""
    ready = stack.state_dir / "regionsim-wan.json"
    ready.unlink(missing_ok=True)
    args = [sys.executable, "-m", "regionsim.cmd", "--keystone-url", proxy_url,
            "--auth-username", "regionsim", "--auth-project", SERVICE_PROJECT,
            "--ready-file", str(ready), "--region", f"{region}={free_port()}@{proxy_url}"]
    env = dict(os.environ, REGIONSIM_AUTH_PASSWORD=stack.state.password("regionsim"))
    log = open(stack.state_dir / "regionsim-wan.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the WAN regionsim did not start")
        time.sleep(0.05)
    catalog = json.loads(ready.read_text())["regions"][region]["catalog"]
    return proc, next(url for stype, _, url in catalog if stype == "compute")


# --- figures ----------------------------------------------------------------------------

def validation_latency(stack: StarStack, rtt_ms: float, tokens: int, rounds: int) -> dict:
    a = stack.keystone
    b = stack.region_keystone("RegionTwo")
    proxy = DelayProxy(("127.0.0.1", a.port), rtt_ms / 2000).start()
    proxy_url = f"http://127.0.0.1:{proxy.port}/v3"
    demo_password = stack.state.password(DEMO_USER)
    service_token = issue(b.auth_url, "regionsim", stack.state.password("regionsim"),
                          SERVICE_PROJECT)
    user_tokens = [issue(a.auth_url, DEMO_USER, demo_password, DEMO_PROJECT)
                   for _ in range(tokens)]
    result: dict = {"wan_rtt_ms": rtt_ms}
    for label, url in (("keystone_local_B", b.auth_url), ("keystone_remote_A_wan", proxy_url)):
        http = requests.Session()  # keep-alive, as auth_token's session
        times = []
        for _ in range(rounds):
            for token in user_tokens:
                started = time.perf_counter()
                answer = http.get(f"{url}/auth/tokens?nocatalog", timeout=30, headers={
                    "X-Auth-Token": service_token, "X-Subject-Token": token})
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
        result[label] = summary_ms(times)
    # What a user in RegionTwo sees: a request with a token auth_token has not seen yet.
    stack.keystone.provisioner().ensure_endpoint("identity", "RegionTwo-WAN", proxy_url,
                                                 service_name="keystone")
    stack.cluster.wait_replayed()
    wan_sim, wan_compute = start_wan_regionsim(stack, proxy_url, "RegionTwo-WAN")
    try:
        local_compute = next(url for stype, _, url in
                             stack.sim_endpoints["regions"]["RegionTwo"]["catalog"]
                             if stype == "compute")
        fresh = [issue(b.auth_url, DEMO_USER, demo_password, DEMO_PROJECT)
                 for _ in range(2 * tokens * rounds)]
        for label, compute, batch in (
                ("service_request_local_B", local_compute, fresh[: tokens * rounds]),
                ("service_request_remote_A_wan", wan_compute, fresh[tokens * rounds:])):
            http = requests.Session()
            http.get(f"{compute}/flavors", headers={"X-Auth-Token": batch[0]}, timeout=30)
            times = []
            for token in batch[1:]:
                started = time.perf_counter()
                answer = http.get(f"{compute}/flavors", headers={"X-Auth-Token": token},
                                  timeout=30)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
            result[label] = summary_ms(times)
    finally:
        wan_sim.terminate()
        wan_sim.wait(10)
        proxy.stop()
    result["saving_per_validation_ms"] = round(
        result["keystone_remote_A_wan"]["mean_ms"] - result["keystone_local_B"]["mean_ms"], 2)
    return result


def master_outage(stack: StarStack, seconds: float) -> dict:
    b = stack.region_keystone("RegionTwo")
    compute = next(url for stype, _, url in stack.sim_endpoints["regions"]["RegionTwo"]
                   ["catalog"] if stype == "compute")
    password = stack.state.password(DEMO_USER)
    stack.fail_master_site()
    attempts = ok = 0
    failures: list[str] = []
    write_refused_ms = None
    try:
        http = requests.Session()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            attempts += 1
            try:
                token = issue(b.auth_url, DEMO_USER, password, DEMO_PROJECT, http)
                valid = http.get(f"{b.auth_url}/auth/tokens?nocatalog", timeout=30, headers={
                    "X-Auth-Token": token, "X-Subject-Token": token}).status_code
                service = http.get(f"{compute}/flavors", headers={"X-Auth-Token": token},
                                   timeout=30).status_code
                if valid == 200 and service == 200:
                    ok += 1
                else:
                    failures.append(f"validation {valid}, compute {service}")
            except requests.RequestException as exc:
                failures.append(str(exc)[:200])
        admin = issue(b.auth_url, "admin", stack.keystone.admin_password, "admin")
        started = time.perf_counter()
        refused = http.post(f"{b.auth_url}/users", headers={"X-Auth-Token": admin},
                            json={"user": {"name": "bench-outage"}}, timeout=30)
        write_refused_ms = round((time.perf_counter() - started) * 1000, 2)
        assert refused.status_code == 403
    finally:
        stack.restore_master_site()
    started = time.monotonic()
    stack.wait_nodes_current(timeout=60)
    return {"outage_seconds": seconds, "attempts": attempts, "succeeded": ok,
            "success_rate": round(ok / attempts, 4) if attempts else None,
            "failures": failures[:5], "user_create_at_B_refused_in_ms": write_refused_ms,
            "seconds_until_all_nodes_current_after_restore": round(
                time.monotonic() - started, 2)}


def replication_burst(stack: StarStack, writes: int) -> dict:
    primary = stack.cluster.primary
    standby = stack.cluster.standbys["RegionTwo"]
    prov = stack.keystone.provisioner()
    role_id = prov.ensure_role("member")
    demo_id = prov._one("/users", "users", "users", name=DEMO_USER)["id"]
    session = stack.keystone.admin_session()
    url = stack.keystone.auth_url
    samples: list[tuple[float, int, float]] = []
    stop = threading.Event()

    def sample():
        with contextlib.closing(primary.connect()) as connection, connection.cursor() as cur:
            while not stop.is_set():
                cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                            "COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)::float "
                            "FROM pg_stat_replication WHERE application_name = 'RegionTwo'")
                row = cur.fetchone()
                if row:
                    samples.append((time.monotonic(), row[0], row[1]))
                time.sleep(0.02)

    visible: list[float] = []

    def watch(project_id: str, answered: float):
        with contextlib.closing(standby.connect("keystone")) as connection, \
                connection.cursor() as cur:
            while True:
                cur.execute("SELECT 1 FROM project WHERE id = %s", (project_id,))
                if cur.fetchone():
                    visible.append(time.monotonic() - answered)
                    return
                time.sleep(0.002)

    tag = f"bench{int(time.time())}"
    projects = writes // 2

    def create(i: int) -> str:
        answer = session.post(f"{url}/projects", json={"project": {
            "name": f"{tag}-{i}", "domain_id": "default"}})
        answered = time.monotonic()
        project_id = answer.json()["project"]["id"]
        if i % 25 == 0:
            watchers.submit(watch, project_id, answered)
        return project_id

    def assign(project_id: str) -> None:
        session.put(f"{url}/projects/{project_id}/users/{demo_id}/roles/{role_id}")

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as watchers, \
            concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(create, range(projects)))
        list(pool.map(assign, ids))
        burst_seconds = time.monotonic() - started
    stack.cluster.wait_replayed(timeout=60)
    caught_up = time.monotonic() - started - burst_seconds
    time.sleep(0.2)
    stop.set()
    sampler.join(5)
    during = [s for s in samples if started <= s[0] <= started + burst_seconds]
    lag_bytes = [s[1] for s in during]
    lag_seconds = [s[2] for s in during]
    return {"writes": projects * 2, "burst_seconds": round(burst_seconds, 2),
            "writes_per_second": round(projects * 2 / burst_seconds, 1),
            "samples": len(during),
            "replay_lag_bytes_max": max(lag_bytes, default=None),
            "replay_lag_bytes_p95": sorted(lag_bytes)[int(0.95 * len(lag_bytes))]
            if lag_bytes else None,
            "replay_lag_ms_max": round(max(lag_seconds, default=0) * 1000, 2),
            "replay_lag_ms_mean": round(statistics.mean(lag_seconds) * 1000, 2)
            if lag_seconds else None,
            "write_visible_in_RegionTwo": summary_ms(visible) if visible else None,
            "seconds_to_catch_up_after_burst": round(caught_up, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wan-rtt-ms", type=float, default=50.0,
                        help="round trip added between RegionTwo and A (default 50)")
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--outage-seconds", type=float, default=20.0)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--output", default=str(HERE / "results" / "identity_star.json"))
    args = parser.parse_args(argv)
    from harness import quiet_logs

    state_dir = Path(tempfile.mkdtemp(prefix="kingbird-star-bench-"))
    quiet_logs(state_dir / "kingbird.log")
    stack = StarStack(StarSettings(state_dir=state_dir / "demo", api_port=free_port(),
                                   regions=2, engine=False, agent_interval=1.0))
    results: dict = {}
    try:
        started = time.monotonic()
        stack.start()
        results["startup_seconds"] = round(time.monotonic() - started, 2)
        print(f"star topology up in {results['startup_seconds']} s", flush=True)
        results["validation_latency"] = validation_latency(stack, args.wan_rtt_ms,
                                                           args.tokens, args.rounds)
        print(json.dumps(results["validation_latency"], indent=2), flush=True)
        results["replication_burst"] = replication_burst(stack, args.writes)
        print(json.dumps(results["replication_burst"], indent=2), flush=True)
        results["master_outage"] = master_outage(stack, args.outage_seconds)
        print(json.dumps(results["master_outage"], indent=2), flush=True)
    finally:
        stack.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "scenario": " ".join(__doc__.split("\n\n")[1].split()),
        "cpus": os.cpu_count(), "results": results},
        indent=2) + "\n")
    print(f"saved {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
