"""The projects and users Keystone knows, read with the service's credentials."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, quote, urlsplit

from keystoneauth1 import session as ks_session

from kingbird.core.retry import RetryPolicy
from kingbird.regions import calls

LOG = logging.getLogger(__name__)

#: Pages of projects read at most: with any page size Keystone allows, more projects
#: than a cloud has; a Keystone whose ``next`` never ends stops here.
MAX_PAGES = 1000


def _marker(next_link: str | None) -> str | None:
    """The ``marker`` of Keystone's ``links.next``. Only the marker is taken: the
    request goes to the catalog's identity endpoint, never to a host a link names."""
    if not next_link:
        return None
    values = parse_qs(urlsplit(next_link).query).get("marker")
    return values[-1] if values else None


def list_project_ids(session: ks_session.Session, interface: str = "public",
                     policy: RetryPolicy = calls.DEFAULT_POLICY,
                     max_pages: int = MAX_PAGES, page_size: int | None = None) -> list[str]:
    """Ids of every enabled project, following Keystone's pages (the ``marker`` of
    ``links.next``) for at most ``max_pages`` pages; a list cut short (by that bound,
    a page named twice, or a Keystone that truncates without a next page) is logged
    and returned as read.

    :param page_size: projects asked per page (``limit``); Keystone's own page size
        (``[DEFAULT] list_limit``, none by default) if None.
    """
    ids: set[str] = set()
    markers: set[str] = set()
    marker: str | None = None
    for _ in range(max_pages):
        path = "/projects?enabled=true" + (f"&limit={page_size}" if page_size else "") + (
            f"&marker={quote(marker, safe='')}" if marker else "")

        def _get(path: str = path):
            response = session.get(path,
                                   endpoint_filter={"service_type": "identity",
                                                    "interface": interface, "version": (3, 0)},
                                   raise_exc=False)
            return calls.checked(response, "identity", "list projects")

        body = calls.call("identity", "list projects", _get, policy)
        ids.update(p["id"] for p in body.get("projects", []))
        marker = _marker((body.get("links") or {}).get("next"))
        if marker is None:
            if body.get("truncated"):
                LOG.warning("Keystone truncated the list of projects after %d and offers no "
                            "next page: raise its [DEFAULT] list_limit", len(ids))
            return sorted(ids)
        if marker in markers:
            LOG.warning("Keystone names the page after %s twice; %d projects read",
                        marker, len(ids))
            return sorted(ids)
        markers.add(marker)
    LOG.warning("Keystone still has projects after %d pages; %d projects read", max_pages,
                len(ids))
    return sorted(ids)


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
