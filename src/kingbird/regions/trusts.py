"""Keystone trusts: how Kingbird acts in a project's name long after the request.

Nova and Cinder create servers and volumes in the project of the token, and an
administrator's token cannot name another project. So when a protection plan is
created, its creator delegates their roles on the project to Kingbird's service
user with a trust (``impersonation``: servers and keypairs stay the creator's);
engines then authenticate with the service's credentials scoped to that trust,
which gives them a token of the project, in every region of the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import session as ks_session
from oslo_config import cfg

from kingbird.core import exceptions, options
from kingbird.regions.directory import RegionDirectory

# Scope options of the service credentials a trust-scoped token must not carry.
_UNSCOPED = {"project_id": None, "project_name": None, "project_domain_id": None,
             "project_domain_name": None, "domain_id": None, "domain_name": None,
             "system_scope": None}


class Trusts:
    """Create and delete trusts to Kingbird's service user.

    :param session: keystoneauth session with the service's credentials.
    """

    def __init__(self, session: ks_session.Session, interface: str = "public"):
        self.session = session
        self.filter = {"service_type": "identity", "interface": interface}

    def create(self, token: str, trustor_user_id: str, project_id: str,
               roles: Iterable[str]) -> str:
        """Delegate ``roles`` on ``project_id`` to the service user, with the
        trustor's own ``token``.

        :returns: the trust id.
        :raises Forbidden: Keystone refused (the token is not the trustor's, or lacks
            a role).
        :raises ServiceUnavailable: Keystone could not be reached.
        """
        try:
            trustee = self.session.get_user_id()
            body = {"trust": {"trustor_user_id": trustor_user_id, "trustee_user_id": trustee,
                              "project_id": project_id, "impersonation": True,
                              "roles": [{"name": r} for r in sorted(set(roles))]}}
            response = self.session.post("/OS-TRUST/trusts", json=body, raise_exc=False,
                                         endpoint_filter=self.filter,
                                         headers={"X-Auth-Token": token}, authenticated=False)
        except ks_exc.ClientException as exc:
            raise exceptions.ServiceUnavailable(f"Keystone: {exc}") from exc
        if response.status_code in (401, 403):
            raise exceptions.Forbidden(
                "Keystone refused to let Kingbird act for the project: create the plan with "
                f"a token of the project ({response.status_code})")
        if response.status_code >= 400:
            raise exceptions.ServiceUnavailable(
                f"Keystone refused the trust: HTTP {response.status_code}")
        return response.json()["trust"]["id"]

    def delete(self, trust_id: str) -> None:
        """Revoke a trust (as the service's admin); one already gone is not an error.

        :raises ServiceUnavailable: Keystone could not be reached or refused.
        """
        try:
            response = self.session.delete(f"/OS-TRUST/trusts/{trust_id}", raise_exc=False,
                                           endpoint_filter=self.filter)
        except ks_exc.ClientException as exc:
            raise exceptions.ServiceUnavailable(f"Keystone: {exc}") from exc
        if response.status_code not in (204, 404):
            raise exceptions.ServiceUnavailable(
                f"Keystone refused to delete trust {trust_id}: HTTP {response.status_code}")


def trust_directories(conf: cfg.ConfigOpts) -> Callable[[str], RegionDirectory]:
    """A factory: trust id → the regions reached in the trust's project, with the
    service's credentials scoped to the trust (``RegionClients.for_trust``)."""
    group = options.SERVICE_CREDENTIALS_GROUP

    def build(trust_id: str) -> RegionDirectory:
        auth = ks_loading.load_auth_from_conf_options(conf, group, trust_id=trust_id,
                                                      **_UNSCOPED)
        session = ks_loading.load_session_from_conf_options(
            conf, group, auth=auth, timeout=conf.regions.request_timeout)
        return RegionDirectory(session, interface=conf.regions.interface)

    return build
