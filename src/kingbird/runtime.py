"""Wires Kingbird's parts together from a configuration: the only module that
knows every feature.

The console scripts, the demo and the tests build their processes here, so the
objects are constructed one way only: database, region access (one
``RegionClients`` under one retry policy, and the sync copiers over it, shared by
the API and the engine), the engine with each feature's workers, the API with
each feature's routes, policy rules and metrics (``API_FEATURES``).
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
from kingbird.api import policy_base
from kingbird.api.app import ApiFeature, ApiServices, create_app
from kingbird.core.retry import RetryPolicy
from kingbird.db import session as db_session
from kingbird.dr import api as dr_api
from kingbird.dr import policies as dr_policies
from kingbird.dr.worker import build_dr_worker
from kingbird.engine.coordination import Coordinator, build_coordinator
from kingbird.engine.service import Engine
from kingbird.identity import api as identity_api
from kingbird.identity import policies as identity_policies
from kingbird.identity.metrics import IdentityCollector
from kingbird.network import api as network_api
from kingbird.network import interconnect_api
from kingbird.network import policies as network_policies
from kingbird.network.worker import build_network_worker
from kingbird.quota import api as quota_api
from kingbird.quota import class_api as quota_class_api
from kingbird.quota import metrics as quota_metrics
from kingbird.quota import policies as quota_policies
from kingbird.quota.regional import RegionQuotas
from kingbird.quota.scheduler import QuotaScheduler, contended_interval
from kingbird.quota.syncer import QuotaSyncer
from kingbird.regions import identity
from kingbird.regions.clients import RegionClients
from kingbird.regions.copying import Copier
from kingbird.regions.directory import RegionDirectory
from kingbird.regions.fanout import FanOut
from kingbird.regions.trusts import trust_directories
from kingbird.sync import api as sync_api
from kingbird.sync import metrics as sync_metrics
from kingbird.sync import policies as sync_policies
from kingbird.sync.registry import build_copiers
from kingbird.sync.runner import JobRunner

API_FEATURES: tuple[ApiFeature, ...] = (
    ApiFeature("quota", (quota_api.bp, quota_class_api.bp), quota_policies.list_rules,
               database_metrics=(quota_metrics.database_metrics,)),
    ApiFeature("sync", (sync_api.bp,), sync_policies.list_rules,
               database_metrics=(sync_metrics.database_metrics,)),
    ApiFeature("identity", (identity_api.bp,), identity_policies.list_rules,
               collectors=(lambda svc: IdentityCollector(svc.conf, svc.db),)),
    ApiFeature("network", (network_api.bp, interconnect_api.bp), network_policies.list_rules),
    ApiFeature("dr", (dr_api.bp,), dr_policies.list_rules),
)


def list_policy_rules() -> list:
    """Every policy rule default: the shared base rules and each feature's.

    Entry point for ``oslopolicy-sample-generator`` (namespace ``kingbird``)."""
    rules = [rule for feature in API_FEATURES for rule in feature.policy_rules()]
    return [*policy_base.list_rules(), *rules]


@dataclass
class Runtime:
    conf: cfg.ConfigOpts
    db: Callable[[], AbstractContextManager[Session]]
    keystone: ks_session.Session
    clients: RegionClients
    fanout: FanOut
    quotas: RegionQuotas
    copiers: dict[str, Copier]
    coordinator: Coordinator | None = None

    def build_api(self, wake_engine=lambda: None):
        """The API's full WSGI stack with every feature's routes and policies.

        :param wake_engine: tells an in-process engine there is new work (the
            default suits separate engine processes, which poll the database).
        """
        services = ApiServices(conf=self.conf, db=self.db, regions=self.quotas,
                               wake_engine=wake_engine, clients=self.clients,
                               copiers=self.copiers, fanout=self.fanout)
        return create_app(services, API_FEATURES)

    def engine_id(self) -> str:
        return self.conf.engine.engine_id or f"{socket.gethostname()}:{os.getpid()}"

    def build_engine(self) -> Engine:
        conf = self.conf
        syncer = QuotaSyncer(conf, self.db, self.quotas, self.fanout)
        self.coordinator = build_coordinator(conf.coordination.backend_url, self.engine_id())
        self.coordinator.start()
        scheduler = QuotaScheduler(
            syncer, self.db,
            partial(identity.list_project_ids, self.keystone, conf.regions.interface,
                    self.clients.policy),
            self.engine_id(), sync_interval=conf.quota.sync_interval,
            lease_seconds=conf.engine.lease_seconds, workers=conf.engine.job_workers,
            coordinator=self.coordinator,
            contended_interval=contended_interval(conf.quota.contended_sync_interval,
                                                  conf.quota.sync_interval))
        jobs = JobRunner(self.copiers, self.db,
                         self.engine_id(), workers=conf.engine.job_workers,
                         lease_seconds=conf.engine.lease_seconds,
                         entry_retries=conf.engine.entry_retries,
                         entry_crashes=conf.engine.entry_crashes,
                         retry_backoff=conf.engine.entry_retry_backoff)
        network = build_network_worker(conf, self.db, self.clients, self.engine_id())
        dr = build_dr_worker(conf, self.db, self.clients, self.keystone, self.engine_id(),
                             self.copiers)
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
    clients = RegionClients(directory, RetryPolicy.from_conf(conf), trust_directories(conf))
    fanout = FanOut(conf.regions.concurrency)
    return Runtime(conf=conf, db=partial(db_session.transaction, factory), keystone=keystone,
                   clients=clients, fanout=fanout, quotas=RegionQuotas(clients, fanout),
                   copiers=build_copiers(clients.service))
