"""Python client library for the Kingbird API: a keystoneauth1 session in, dataclasses out.

    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    from kingbird.client import Client

    auth = v3.Password(auth_url=..., username=..., password=..., project_name=...,
                       user_domain_name="Default", project_domain_name="Default")
    kb = Client(session.Session(auth=auth), region_name="RegionOne")
    kb.quotas.update(project_id, {"cores": 40})
    print(kb.quotas.detail().remaining["cores"])

Errors raise the classes of ``kingbird.client.exceptions`` (``NotFound``, ``Forbidden``...),
with ``http_status`` set to the status received; see ``kingbird.client.http``.
"""

from __future__ import annotations

from keystoneauth1 import session as ks_session

from kingbird.client.dr import DrManager
from kingbird.client.exceptions import (
    AuthenticationFailed,
    ConnectionFailed,
    EndpointNotFound,
    ProjectUnknown,
)
from kingbird.client.http import HttpClient
from kingbird.client.networks import (
    GlobalNetworkManager,
    GlobalRouterManager,
    GlobalSecurityGroupRuleManager,
)
from kingbird.client.quota_classes import QuotaClassManager, QuotaClassSet
from kingbird.client.quotas import QuotaDetail, QuotaManager, QuotaSet, RegionQuota
from kingbird.client.sync_jobs import SyncEntry, SyncJob, SyncJobManager
from kingbird.client.vocabulary import SYNC_RESOURCE_TYPES as RESOURCE_TYPES


class Client:
    """Entry point of the library: one attribute per API resource.

    :param session: an authenticated ``keystoneauth1.session.Session``.
    :param endpoint: the Kingbird URL (e.g. ``http://host:8118/v1.0``); looked up in
        the catalog (service type ``synchronization``) when ``None``.
    :param project_id: the caller's project; the token's when ``None``.
    :param region_name: the region whose catalog entry to use.
    :param interface: the catalog interface.
    """

    def __init__(self, session: ks_session.Session, endpoint: str | None = None,
                 project_id: str | None = None, region_name: str | None = None,
                 interface: str = "public"):
        self.http = HttpClient(session, endpoint=endpoint, project_id=project_id,
                               region_name=region_name, interface=interface)
        self.quotas = QuotaManager(self.http)
        self.quota_classes = QuotaClassManager(self.http)
        self.sync_jobs = SyncJobManager(self.http)
        self.global_networks = GlobalNetworkManager(self.http)
        self.global_sg_rules = GlobalSecurityGroupRuleManager(self.http)
        self.global_routers = GlobalRouterManager(self.http)
        self.dr = DrManager(self.http)


__all__ = [
    "Client", "HttpClient", "QuotaManager", "QuotaSet", "QuotaDetail", "RegionQuota",
    "QuotaClassManager", "QuotaClassSet", "SyncJobManager", "SyncJob", "SyncEntry",
    "RESOURCE_TYPES", "GlobalNetworkManager", "GlobalSecurityGroupRuleManager",
    "GlobalRouterManager", "AuthenticationFailed", "ConnectionFailed", "EndpointNotFound",
    "ProjectUnknown", "DrManager",
]
