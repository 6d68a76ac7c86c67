"""Image sync throughput and engine memory, against a plain HTTP copy of the same bytes.

Scenario: the demo cloud (real Keystone, regionsim with three regions) runs with
``kingbird-demo --no-engine``, and the engine runs as its own process
(``kingbird-engine``) so that its memory can be read from ``/proc``. For each
size, an image of that many MiB is uploaded to RegionOne, then copied to
RegionTwo and RegionThree twice:

1. plain: for each target, in parallel, a download from RegionOne's Glance
   streamed with ``requests`` into an upload to the target's Glance, in chunks
   of the size the engine uses;
2. Kingbird: one sync job (POST /v1.1/os-sync, the image to both regions),
   timed from the POST until the job is SUCCESS.

Each is run ``--repeat`` times, interleaved, and the medians are compared.

Throughput is the bytes written to the targets (2 x size) over the wall time.
CPU time is the copying process's: the benchmark's own for the plain copy, the
engine's for the job; unlike wall time, it hardly depends on what else the
machine is doing. The engine's resident memory is sampled every 20 ms during the
job (and its kernel-kept peak, VmHWM, reset before the job); its growth is the
peak minus the resident size just before the job, after a warm-up sync of a
small image.

Usage: ``.venv/bin/python benchmarks/image_sync.py 256 1024`` (sizes in MiB).
Results are printed and saved as JSON (``--output``).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.sync.image import CHUNK_SIZE

MiB = 1024 * 1024
SOURCE, TARGETS = "RegionOne", ("RegionTwo", "RegionThree")


class Sized:
    """An iterable body with a length: requests sends it with Content-Length."""

    def __init__(self, chunks, size: int):
        self.chunks, self.size = chunks, size

    def __len__(self):
        return self.size

    def __iter__(self):
        return iter(self.chunks)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_openrc(path: str) -> dict[str, str]:
    env = {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


class Demo:
    """``kingbird-demo --no-engine`` and a separate ``kingbird-engine``."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.demo: subprocess.Popen | None = None
        self.engine: subprocess.Popen | None = None

    def start(self) -> dict:
        ready = self.state_dir / "ready.json"
        self.demo = subprocess.Popen(
            [sys.executable, "-m", "kingbird.cmd.demo", "--state-dir", str(self.state_dir),
             "--api-port", str(free_port()), "--ready-file", str(ready), "--no-engine",
             "--sync-interval", "3600"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        while not ready.exists():
            if self.demo.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kingbird-demo did not start (see {self.state_dir})")
            time.sleep(0.2)
        summary = json.loads(ready.read_text())
        log = open(self.state_dir / "engine.log", "wb")  # noqa: SIM115 (kept by the child)
        self.engine = subprocess.Popen(
            [sys.executable, "-m", "kingbird.cmd.engine", "--config-file",
             summary["kingbird_conf"]], stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        return summary

    def stop(self) -> None:
        for proc in (self.engine, self.demo):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


class Memory:
    """Samples a process's VmRSS; reads and resets its VmHWM."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def field(self, name: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(name)

    def start(self) -> int:
        try:  # "5" resets the peak resident size the kernel keeps (VmHWM)
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            pass
        baseline = self.field("VmRSS")
        self.peak = baseline
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return baseline

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.field("VmRSS"))

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return max(self.peak, self.field("VmHWM"))


class Cloud:
    def __init__(self, summary: dict):
        env = read_openrc(summary["admin_openrc"])
        self.session = ks_session.Session(auth=v3.Password(
            auth_url=env["OS_AUTH_URL"], username=env["OS_USERNAME"],
            password=env["OS_PASSWORD"], project_name=env["OS_PROJECT_NAME"],
            user_domain_name="Default", project_domain_name="Default"))
        self.kingbird = summary["kingbird_url"].rsplit("/v1.0", 1)[0]
        self.http = requests.Session()

    def headers(self, **extra) -> dict:
        return {"X-Auth-Token": self.session.get_token(), **extra}

    def glance(self, region: str) -> str:
        url = self.session.get_endpoint(service_type="image", region_name=region,
                                        interface="public")
        return url.rstrip("/") + "/v2"

    def create_image(self, region: str, name: str, size: int, chunks=None,
                     image_id: str | None = None) -> str:
        record = {"name": name, "disk_format": "raw", "container_format": "bare",
                  "visibility": "private"}
        if image_id:
            record["id"] = image_id
        answer = self.http.post(f"{self.glance(region)}/images", json=record,
                                headers=self.headers())
        answer.raise_for_status()
        image_id = answer.json()["id"]
        if chunks is None:
            block = os.urandom(CHUNK_SIZE)
            chunks = (block[:min(CHUNK_SIZE, size - off)] for off in range(0, size, CHUNK_SIZE))
        self.http.put(f"{self.glance(region)}/images/{image_id}/file", data=Sized(chunks, size),
                      headers=self.headers(**{"Content-Type": "application/octet-stream"})
                      ).raise_for_status()
        return image_id

    def image(self, region: str, image_id: str) -> dict:
        answer = self.http.get(f"{self.glance(region)}/images/{image_id}", headers=self.headers())
        answer.raise_for_status()
        return answer.json()

    def delete_image(self, region: str, image_id: str) -> None:
        self.http.delete(f"{self.glance(region)}/images/{image_id}", headers=self.headers())

    def plain_copy(self, image_id: str, target: str, size: int) -> str:
        """Download from the source and upload to the target, streamed, with requests."""
        http = requests.Session()
        with http.get(f"{self.glance(SOURCE)}/images/{image_id}/file", stream=True,
                      headers=self.headers()) as download:
            download.raise_for_status()
            return self.create_image(target, f"plain-{image_id}", size,
                                     download.iter_content(CHUNK_SIZE))

    def sync(self, image_id: str) -> float:
        """Seconds from the POST of a sync job until it is SUCCESS."""
        body = {"resource_set": {"resources": [image_id], "resource_type": "image",
                                 "source": SOURCE, "target": list(TARGETS), "force": True}}
        started = time.monotonic()
        answer = self.http.post(f"{self.kingbird}/v1.1/os-sync", json=body,
                                headers=self.headers())
        answer.raise_for_status()
        job_id = answer.json()["job_status"]["id"]
        while True:
            entries = self.http.get(f"{self.kingbird}/v1.1/os-sync/{job_id}",
                                    headers=self.headers()).json()["job_set"]
            statuses = {e["sync_status"] for e in entries}
            if "IN_PROGRESS" not in statuses:
                elapsed = time.monotonic() - started
                if statuses != {"SUCCESS"}:
                    raise RuntimeError(f"sync failed: {[e['error'] for e in entries]}")
                return elapsed
            time.sleep(0.05)


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one by default)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def plain_round(cloud: Cloud, source: str, size: int, checksum: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of the plain copy."""
    started, cpu = time.monotonic(), cpu_seconds()
    with cf.ThreadPoolExecutor(len(TARGETS)) as pool:
        copies = dict(zip(TARGETS, pool.map(lambda t: cloud.plain_copy(source, t, size),
                                            TARGETS), strict=True))
    seconds, cpu = time.monotonic() - started, cpu_seconds() - cpu
    for target, copy in copies.items():
        assert cloud.image(target, copy)["checksum"] == checksum
        cloud.delete_image(target, copy)
    return seconds, cpu


def kingbird_round(cloud: Cloud, memory: Memory, source: str,
                   checksum: str) -> tuple[float, float, int, int]:
    """(wall seconds, engine CPU seconds, engine RSS before, engine RSS peak)."""
    baseline = memory.start()
    cpu = cpu_seconds(memory.pid)
    seconds = cloud.sync(source)
    cpu = cpu_seconds(memory.pid) - cpu
    peak = memory.stop()
    for target in TARGETS:
        assert cloud.image(target, source)["checksum"] == checksum
        cloud.delete_image(target, source)
    return seconds, cpu, baseline, peak


def measure(cloud: Cloud, memory: Memory, size_mib: int, repeat: int) -> dict:
    """``repeat`` rounds of each copy, interleaved (the order alternating) so that
    other load on the machine weighs on both alike; medians are reported."""
    size = size_mib * MiB
    print(f"-- {size_mib} MiB: uploading the source image", flush=True)
    source = cloud.create_image(SOURCE, f"bench-{size_mib}", size)
    checksum = cloud.image(SOURCE, source)["checksum"]
    plain, kingbird, growth, peaks, baselines = [], [], [], [], []
    plain_cpu, engine_cpu = [], []
    for i in range(repeat):
        print(f"   round {i + 1}/{repeat}: plain HTTP copy and Kingbird job to both targets",
              flush=True)
        runs = ["plain", "kingbird"] if i % 2 == 0 else ["kingbird", "plain"]
        for run in runs:
            if run == "plain":
                seconds, cpu = plain_round(cloud, source, size, checksum)
                plain.append(seconds)
                plain_cpu.append(cpu)
            else:
                seconds, cpu, baseline, peak = kingbird_round(cloud, memory, source, checksum)
                kingbird.append(seconds)
                engine_cpu.append(cpu)
                baselines.append(baseline)
                peaks.append(peak)
                growth.append(peak - baseline)
    cloud.delete_image(SOURCE, source)
    moved = size * len(TARGETS) / MiB
    plain_s, kingbird_s = statistics.median(plain), statistics.median(kingbird)
    return {"size_mib": size_mib, "targets": len(TARGETS), "chunk_bytes": CHUNK_SIZE,
            "rounds": repeat,
            "plain_seconds": [round(x, 2) for x in plain],
            "kingbird_seconds": [round(x, 2) for x in kingbird],
            "plain_mib_s": round(moved / plain_s, 1),
            "kingbird_mib_s": round(moved / kingbird_s, 1),
            "ratio": round(plain_s / kingbird_s, 3),
            "plain_cpu_seconds": round(statistics.median(plain_cpu), 2),
            "engine_cpu_seconds": round(statistics.median(engine_cpu), 2),
            "engine_rss_before_mib": round(min(baselines) / MiB, 1),
            "engine_rss_peak_mib": round(max(peaks) / MiB, 1),
            "engine_rss_growth_mib": round(max(growth) / MiB, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[256, 1024],
                        help="image sizes in MiB (default 256 1024)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of each copy per size; medians are reported (default 3)")
    parser.add_argument("--output", default="benchmarks/results/image_sync.json",
                        help="where to save the figures as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kb-image-bench-") as tmp:
        os.environ["REGIONSIM_DATA_DIR"] = str(Path(tmp) / "images")
        demo = Demo(Path(tmp) / "demo")
        try:
            summary = demo.start()
            cloud = Cloud(summary)
            memory = Memory(demo.engine.pid)
            time.sleep(2)  # the engine connects to the database and Keystone
            warm = cloud.create_image(SOURCE, "warm-up", 4 * MiB)
            cloud.sync(warm)
            results = [measure(cloud, memory, size, args.repeat) for size in args.sizes]
            load = Path("/proc/loadavg").read_text().split()[:3]
        finally:
            demo.stop()
    print(f"\nimage sync {SOURCE} -> {', '.join(TARGETS)}, chunks of {CHUNK_SIZE // 1024} KiB, "
          f"{os.cpu_count()} CPUs (load average at the end {' '.join(load)}); "
          f"throughput = bytes written to the targets / wall time, median of "
          f"{args.repeat} interleaved rounds; RSS growth = the largest of the rounds")
    print(f"{'size':>8} {'plain MiB/s':>12} {'Kingbird MiB/s':>15} {'ratio':>6} "
          f"{'CPU s plain/engine':>19} {'engine RSS before':>18} {'peak':>8} {'growth':>8}")
    for r in results:
        cpu = f"{r['plain_cpu_seconds']} / {r['engine_cpu_seconds']}"
        print(f"{r['size_mib']:>5} MiB {r['plain_mib_s']:>12} {r['kingbird_mib_s']:>15} "
              f"{r['ratio']:>6} {cpu:>19} {r['engine_rss_before_mib']:>14} MiB "
              f"{r['engine_rss_peak_mib']:>4} MiB {r['engine_rss_growth_mib']:>4} MiB")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({"scenario": __doc__.split("\n\n")[1].replace("\n", " "),
                                  "cpus": os.cpu_count(), "load_average": load,
                                  "results": results}, indent=2) + "\n")
    print(f"saved to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
