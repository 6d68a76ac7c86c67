"""Wires Kingbird's parts together from a configuration.

The console scripts, the demo and the tests build their processes here, so the
objects are constructed one way only: database, region access with the
service's credentials, the engine's workers, the API.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial

from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird import config
from kingbird.db import session as db_session
from kingbird.dr.worker import build_dr_worker
from kingbird.engine.coordination import Coordinator, build_coordinator
from kingbird.engine.service import Engine
from kingbird.network.worker import build_network_worker
from kingbird.quota.regional import RegionQuotas
from kingbird.quota.scheduler import QuotaScheduler, contended_interval
from kingbird.quota.syncer import QuotaSyncer
from kingbird.regions import identity
from kingbird.regions.directory import RegionDirectory
from kingbird.regions.fanout import FanOut
from kingbird.sync import build_copiers
from kingbird.sync.runner import JobRunner


@dataclass
class Runtime:
    conf: cfg.ConfigOpts
    db: Callable[[], AbstractContextManager[Session]]
    keystone: ks_session.Session
    directory: RegionDirectory
    fanout: FanOut
    quotas: RegionQuotas
    coordinator: Coordinator | None = None

    def engine_id(self) -> str:
        return self.conf.engine.engine_id or f"{socket.gethostname()}:{os.getpid()}"

    def build_engine(self) -> Engine:
        conf = self.conf
        syncer = QuotaSyncer(conf, self.db, self.quotas, self.fanout)
        self.coordinator = build_coordinator(conf.coordination.backend_url, self.engine_id())
        self.coordinator.start()
        scheduler = QuotaScheduler(
            syncer, self.db,
            partial(identity.list_project_ids, self.keystone, conf.regions.interface),
            self.engine_id(), sync_interval=conf.quota.sync_interval,
            lease_seconds=conf.engine.lease_seconds, workers=conf.engine.job_workers,
            coordinator=self.coordinator,
            contended_interval=contended_interval(conf.quota.contended_sync_interval,
                                                  conf.quota.sync_interval))
        jobs = JobRunner(build_copiers(self.directory, conf.regions.retries), self.db,
                         self.engine_id(), workers=conf.engine.job_workers,
                         lease_seconds=conf.engine.lease_seconds,
                         entry_retries=conf.engine.entry_retries,
                         retry_backoff=conf.engine.entry_retry_backoff)
        network = build_network_worker(conf, self.db, self.directory, self.engine_id())
        dr = build_dr_worker(conf, self.db, self.directory, self.keystone, self.engine_id(),
                             build_copiers(self.directory, conf.regions.retries))
        return Engine([scheduler, jobs, network, dr], poll_interval=conf.engine.poll_interval)

    def close(self) -> None:
        if self.coordinator is not None:
            self.coordinator.stop()
        self.fanout.shutdown()


def service_session(conf: cfg.ConfigOpts) -> ks_session.Session:
    """A keystoneauth session with the service's credentials ([service_credentials])."""
    group = config.SERVICE_CREDENTIALS_GROUP
    auth = ks_loading.load_auth_from_conf_options(conf, group)
    return ks_loading.load_session_from_conf_options(
        conf, group, auth=auth, timeout=conf.regions.request_timeout)


def build_runtime(conf: cfg.ConfigOpts) -> Runtime:
    engine = db_session.engine_from_config(conf)
    factory = db_session.make_sessionmaker(engine)
    keystone = service_session(conf)
    directory = RegionDirectory(keystone, interface=conf.regions.interface)
    fanout = FanOut(conf.regions.concurrency)
    quotas = RegionQuotas(directory, fanout, retries=conf.regions.retries)
    return Runtime(conf=conf, db=partial(db_session.transaction, factory), keystone=keystone,
                   directory=directory, fanout=fanout, quotas=quotas)
