"""Kingbird in scale-out mode on this machine: gunicorn API workers and several
``kingbird-engine`` processes on a private PostgreSQL, coordinated through tooz.

Keystone and regionsim are the demo's own (``kingbird.demo.stack``). PostgreSQL
is a private instance in the state directory (``kingbird.demo.pgcluster``), so
it can be stopped and started under load, and nothing depends on a server the
machine may or may not run. The coordination backend is that PostgreSQL, or a
private ``redis-server``.

Used by the scale-out and fault tests and by ``benchmarks/scale_out.py``; every
Kingbird process is a real child process, started from the same command lines
an operator would use (``gunicorn -c python:kingbird.cmd.gunicorn_conf
kingbird.cmd.wsgi:application``, ``kingbird-engine --config-file ...``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import requests

from kingbird.demo.keystone import KeystoneNode
from kingbird.demo.pgcluster import PgCluster
from kingbird.demo.regionsim_launcher import free_port
from kingbird.demo.stack import Stack, StackSettings

DATABASE = "kingbird"


@dataclass
class ScaleOutSettings:
    state_dir: Path
    regions: int = 3
    engines: int = 3
    api_workers: int = 2
    sync_interval: int = 60
    lease_seconds: int = 30
    job_workers: int = 8
    poll_interval: float = 0.5
    request_timeout: float = 10.0
    coordination: str = "postgresql"  # postgresql, redis or none
    #: extra kingbird.conf options for every process: {section: {option: value}}
    extra: dict[str, dict[str, object]] = field(default_factory=dict)


class _Stack(Stack):
    """The demo's pieces without its in-process Kingbird."""

    def start_keystone(self) -> None:
        self.keystone = KeystoneNode(self.state_dir / "keystone",
                                     port=self.state.port("keystone"))
        self.keystone.start()


class ScaleOutStack:
    """Keystone, regionsim, PostgreSQL, gunicorn API workers and N engines."""

    def __init__(self, settings: ScaleOutSettings):
        self.settings = settings
        self.state_dir = Path(settings.state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.stack = _Stack(StackSettings(state_dir=self.state_dir, regions=settings.regions,
                                          api_port=free_port(), engine=False))
        self.pg: PgCluster | None = None
        self.redis: subprocess.Popen | None = None
        self.api: subprocess.Popen | None = None
        self.engines: dict[str, subprocess.Popen] = {}
        self.conf_files: list[Path] = []
        self._engine_count = 0

    # -- start -------------------------------------------------------------------------

    def start(self) -> ScaleOutStack:
        stack = self.stack
        stack.state.port("kingbird-api", stack.settings.api_port)
        stack.start_keystone()
        stack.provision_identity()
        stack.start_regionsim()
        stack.register_endpoints()
        base_conf = stack.write_kingbird_conf()
        stack.write_client_files()
        stack.state.save(stack.state_file)
        self.start_database()
        self.start_coordination()
        override = self.state_dir / "scaleout.conf"
        override.write_text(self._override_conf())
        os.chmod(override, 0o600)
        self.conf_files = [base_conf, override]
        from kingbird.db import migration

        migration.upgrade(self.database_url)
        self.start_api()
        for _ in range(self.settings.engines):
            self.start_engine()
        return self

    @property
    def database_url(self) -> str:
        return self.pg.primary.url(DATABASE)

    def start_database(self) -> None:
        if self.pg is None:
            self.pg = PgCluster(self.state_dir / "pg", free_port())
        self.pg.start_primary()
        self.pg.create_database(DATABASE)

    def coordination_url(self) -> str:
        kind = self.settings.coordination
        if kind == "postgresql":
            return f"postgresql://postgres@127.0.0.1:{self.pg.primary.port}/{DATABASE}"
        if kind == "redis":
            return f"redis://127.0.0.1:{self._redis_port}?timeout=10"
        return ""

    def start_coordination(self) -> None:
        if self.settings.coordination != "redis":
            return
        self._redis_port = free_port()
        redis_dir = self.state_dir / "redis"
        redis_dir.mkdir(exist_ok=True)
        log = open(self.state_dir / "redis.log", "ab")  # noqa: SIM115 (kept by the child)
        self.redis = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self._redis_port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(redis_dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait(lambda: _port_open(self._redis_port), 20, "redis-server")

    def _override_conf(self) -> str:
        s = self.settings
        sections: dict[str, dict[str, object]] = {
            "database": {"connection": self.database_url, "pool_size": 5},
            "coordination": {"backend_url": self.coordination_url()},
            "engine": {"lease_seconds": s.lease_seconds, "job_workers": s.job_workers,
                       "poll_interval": s.poll_interval},
            "quota": {"sync_interval": s.sync_interval},
            "regions": {"request_timeout": s.request_timeout},
        }
        for section, options in s.extra.items():
            sections.setdefault(section, {}).update(options)
        return "".join(f"[{section}]\n" + "".join(f"{k} = {v}\n" for k, v in opts.items())
                       + "\n" for section, opts in sections.items())

    def _conf_args(self, *more: Path) -> list[str]:
        return [arg for path in (*self.conf_files, *more)
                for arg in ("--config-file", str(path))]

    def start_api(self) -> None:
        metrics_dir = self.state_dir / "api-metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env = dict(os.environ,
                   KINGBIRD_CONFIG_FILE=",".join(str(p) for p in self.conf_files),
                   KINGBIRD_API_WORKERS=str(self.settings.api_workers),
                   KINGBIRD_LOG_FILE=str(self.state_dir / "api.log"),
                   PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
        with open(self.state_dir / "gunicorn.log", "ab") as log:
            self.api = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "python:kingbird.cmd.gunicorn_conf",
                 "kingbird.cmd.wsgi:application"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        def healthy():
            if self.api.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.state_dir}/gunicorn.log")
            with contextlib.suppress(requests.RequestException):
                return requests.get(self.kingbird_root + "/healthcheck",
                                    timeout=2).status_code == 200
            return False

        _wait(healthy, 60, "the API under gunicorn")

    def start_engine(self, name: str | None = None) -> str:
        """Start one more engine (``engine-N``); its name."""
        name = name or f"engine-{self._engine_count}"
        self._engine_count += 1
        own = self.state_dir / f"{name}.conf"
        own.write_text(f"[engine]\nengine_id = {name}\n")
        log = self.engine_log(name)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "kingbird.cmd.engine", *self._conf_args(own)],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.engines[name] = proc
        _wait(lambda: f"kingbird-engine {name} started" in log.read_text(errors="replace")
              or proc.poll() is not None, 30, f"{name} to start")
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited; see {log}")
        return name

    def engine_log(self, name: str) -> Path:
        return self.state_dir / f"{name}.log"

    # -- faults -------------------------------------------------------------------------

    def kill_engine(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.engines[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(30)

    def stop_keystone(self) -> None:
        self.stack.keystone.stop()

    def start_keystone(self) -> None:
        self.stack.keystone.start()

    def stop_database(self, immediate: bool = False) -> None:
        self.pg.primary.stop(immediate=immediate)

    def start_database_again(self) -> None:
        self.pg.primary.start()

    # -- access -------------------------------------------------------------------------

    @property
    def kingbird_root(self) -> str:
        return f"http://127.0.0.1:{self.stack.settings.api_port}"

    def summary(self) -> dict:
        summary = self.stack.summary()
        summary.update(database_url=self.database_url,
                       coordination_url=self.coordination_url(),
                       engines=sorted(self.engines))
        return summary

    def db(self):
        """A transaction factory on the stack's database (for checks)."""
        from kingbird.db.session import create_engine, make_sessionmaker, transaction

        engine = create_engine(self.database_url)
        return partial(transaction, make_sessionmaker(engine))

    def logs(self) -> list[Path]:
        """Every log file Kingbird and regionsim wrote."""
        return sorted(p for p in self.state_dir.glob("*.log") if p.is_file())

    # -- stop ---------------------------------------------------------------------------

    def stop(self) -> None:
        procs = list(self.engines.values()) + ([self.api] if self.api else [])
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            self.redis.wait(10)
        self.stack.stop()
        if self.pg is not None:
            self.pg.stop()


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)
