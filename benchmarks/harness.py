"""What the benchmarks share: a real Keystone and regionsim started with the demo's
own ``Stack`` pieces, and Kingbird's engine classes built in this process on top of
a keystoneauth session that counts every HTTP call it makes, per region.

Every call between Kingbird and a region is real HTTP to regionsim; only the
Kingbird API process is left out (the benchmarks drive the engine directly).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import requests
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird import config
from kingbird.db import migration
from kingbird.db import session as db_session
from kingbird.demo.stack import Stack, StackSettings
from kingbird.quota.regional import RegionQuotas
from kingbird.quota.scheduler import QuotaScheduler
from kingbird.quota.syncer import QuotaSyncer
from kingbird.regions.directory import RegionDirectory
from kingbird.regions.fanout import FanOut
from regionsim.topology import free_port


def quiet_logs(path: Path | None = None) -> None:
    """Kingbird's log to ``path`` (or nowhere), so the figures stay readable."""
    handler: logging.Handler = logging.FileHandler(path) if path else logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if path else logging.CRITICAL)


class CountingAdapter(requests.adapters.HTTPAdapter):
    """Counts requests per (host:port, method) as they go out."""

    def __init__(self, counts: collections.Counter, lock: threading.Lock, **kwargs):
        super().__init__(**kwargs)
        self.counts = counts
        self.lock = lock

    def send(self, request, *args, **kwargs):
        with self.lock:
            self.counts[(urlsplit(request.url).netloc, request.method)] += 1
        return super().send(request, *args, **kwargs)


@dataclass
class CallCounter:
    """HTTP calls made through one session, by region (or ``keystone``) and method."""

    regions_by_netloc: dict[str, str]
    counts: collections.Counter = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self, pool_size: int) -> requests.Session:
        sess = requests.Session()
        adapter = CountingAdapter(self.counts, self.lock, pool_connections=64,
                                  pool_maxsize=pool_size)
        sess.mount("http://", adapter)
        sess.mount("https://", adapter)
        return sess

    def snapshot(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(self.counts)

    def region_calls(self, since: collections.Counter | None = None) -> dict[str, int]:
        """Calls to the regions since ``since``: ``{"read": n, "write": n}``."""
        now = self.snapshot()
        delta = now - (since or collections.Counter())
        out = {"read": 0, "write": 0}
        for (netloc, method), n in delta.items():
            if netloc in self.regions_by_netloc:
                out["read" if method == "GET" else "write"] += n
        return out


class Cloud:
    """Keystone + regionsim (the demo's pieces), and the region endpoints by port."""

    def __init__(self, state_dir: Path, regions: int):
        self.stack = Stack(StackSettings(state_dir=state_dir, regions=regions,
                                         api_port=free_port(), engine=False))

    def start(self) -> None:
        stack = self.stack
        stack.state.port("kingbird-api", stack.settings.api_port)
        stack.start_keystone()
        stack.provision_identity()
        stack.start_regionsim()
        stack.register_endpoints()
        self.conf_path = stack.write_kingbird_conf()
        stack.write_client_files()
        stack.state.save(stack.state_file)

    def stop(self) -> None:
        self.stack.stop()

    @property
    def regions(self) -> list[str]:
        return list(self.stack.region_names)

    @property
    def auth_url(self) -> str:
        return self.stack.keystone.auth_url

    def netlocs(self) -> dict[str, str]:
        return {urlsplit(info["url"]).netloc: region
                for region, info in self.stack.sim_endpoints["regions"].items()}

    def admin_session(self) -> ks_session.Session:
        return ks_session.Session(auth=v3.Password(
            auth_url=self.auth_url, username="admin",
            password=self.stack.keystone.admin_password, project_name="admin",
            user_domain_name="Default", project_domain_name="Default"))

    def user_session(self, user: str, password: str, project: str,
                     pool_size: int = 32) -> ks_session.Session:
        sess = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=32, pool_maxsize=pool_size)
        sess.mount("http://", adapter)
        return ks_session.Session(auth=v3.Password(
            auth_url=self.auth_url, username=user, password=password, project_name=project,
            user_domain_name="Default", project_domain_name="Default"), session=sess)

    def sim(self, method: str, path: str, **kwargs) -> requests.Response:
        """regionsim's control API, as admin."""
        token = self.admin_session().get_token()
        url = self.stack.sim_endpoints["control_url"] + path
        answer = requests.request(method, url, headers={"X-Auth-Token": token}, timeout=30,
                                  **kwargs)
        answer.raise_for_status()
        return answer

    def set_latency(self, seconds: float, regions: list[str] | None = None) -> None:
        for region in regions or self.regions:
            self.sim("PUT", f"/regions/{region}/faults", json={"latency": seconds})


@dataclass
class Kingbird:
    """Kingbird's engine pieces, wired as ``kingbird.runtime`` does, counting calls."""

    conf: object
    db: object
    fanout: FanOut
    quotas: RegionQuotas
    syncer: QuotaSyncer
    counter: CallCounter

    def scheduler(self, projects: list[str], workers: int, sync_interval: float,
                  contended_interval: float | None = None) -> QuotaScheduler:
        return QuotaScheduler(self.syncer, self.db, lambda: list(projects), "bench",
                              sync_interval=sync_interval, lease_seconds=300,
                              workers=workers, contended_interval=contended_interval)

    def close(self) -> None:
        self.fanout.shutdown()


def build_kingbird(cloud: Cloud, state_dir: Path, *, allocation: str, concurrency: int,
                   sync_interval: float, request_timeout: float = 10.0,
                   extra: dict | None = None, db_name: str = "bench-kingbird") -> Kingbird:
    """Kingbird's engine classes on a fresh SQLite database, per ``kingbird.conf``
    of the stack with the given overrides."""
    conf = config.load_config(["--config-file", str(cloud.conf_path)], prog="bench")
    db_url = f"sqlite:///{state_dir / (db_name + '.sqlite')}"
    conf.set_override("connection", db_url, group="database")
    conf.set_override("allocation", allocation, group="quota")
    conf.set_override("sync_interval", max(1, round(sync_interval)), group="quota")
    conf.set_override("concurrency", concurrency, group="regions")
    conf.set_override("request_timeout", request_timeout, group="regions")
    for (group, name), value in (extra or {}).items():
        conf.set_override(name, value, group=group)
    Path(db_url[len("sqlite:///"):]).unlink(missing_ok=True)
    migration.upgrade(db_url)
    engine = db_session.create_engine(db_url)
    factory = db_session.make_sessionmaker(engine)
    db = partial(db_session.transaction, factory)

    counter = CallCounter(cloud.netlocs())
    group = config.SERVICE_CREDENTIALS_GROUP
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    keystone = ks_loading.load_session_from_conf_options(
        conf, group, auth=auth, timeout=conf.regions.request_timeout,
        session=counter.session(pool_size=concurrency))
    directory = RegionDirectory(keystone, interface=conf.regions.interface)
    fanout = FanOut(conf.regions.concurrency)
    quotas = RegionQuotas(directory, fanout, retries=conf.regions.retries)
    syncer = QuotaSyncer(conf, db, quotas, fanout)
    directory.regions()  # token and catalog now, not inside the first measured cycle
    return Kingbird(conf, db, fanout, quotas, syncer, counter)


def run_cycle(scheduler: QuotaScheduler, timeout: float = 3600) -> float:
    """One periodic cycle over every project (the scheduler was built with a sync
    interval of 0, so every tick starts one); its wall time in seconds."""
    started = time.monotonic()
    scheduler.tick()
    while not scheduler.idle():
        if time.monotonic() - started > timeout:
            raise TimeoutError("cycle did not finish")
        time.sleep(0.01)
    return time.monotonic() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
