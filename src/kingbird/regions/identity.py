"""The projects and users Keystone knows, read with the service's credentials."""

from __future__ import annotations

from urllib.parse import quote

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


def user_exists(session: ks_session.Session, user_id: str, interface: str = "public",
                policy: RetryPolicy = calls.DEFAULT_POLICY) -> bool:
    """Whether Keystone knows a user with the id ``user_id`` (``GET /v3/users/{id}``).

    :raises RegionError: Keystone did not answer, or refused to say.
    """
    what = f"read user {user_id}"

    def _get() -> bool:
        response = session.get(f"/users/{quote(user_id, safe='')}",
                               endpoint_filter={"service_type": "identity",
                                                "interface": interface, "version": (3, 0)},
                               raise_exc=False)
        if response.status_code == 404:
            return False
        body = calls.checked(response, "identity", what)
        # Only a user document naming this very id counts: an id such as ".." could
        # otherwise reach another resource of Keystone's.
        return isinstance(body, dict) and (body.get("user") or {}).get("id") == user_id

    return calls.call("identity", what, _get, policy)
