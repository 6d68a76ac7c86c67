"""The projects Keystone knows, read with the service's credentials."""

from __future__ import annotations

from keystoneauth1 import session as ks_session

from kingbird.core.retry import RetryPolicy
from kingbird.regions import calls


def list_project_ids(session: ks_session.Session, interface: str = "public",
                     policy: RetryPolicy = calls.DEFAULT_POLICY) -> list[str]:
    """Ids of every enabled project (paginated as Keystone answers)."""

    def _get():
        response = session.get("/projects?enabled=true",
                               endpoint_filter={"service_type": "identity",
                                                "interface": interface, "version": (3, 0)},
                               raise_exc=False)
        return calls.checked(response, "identity", "list projects")

    body = calls.call("identity", "list projects", _get, policy)
    return sorted(p["id"] for p in body.get("projects", []))
