"""Keep writes away from a Keystone that serves a read-only database replica.

In the star topology a region's Keystone reads a streaming standby of the master
site's database. PostgreSQL refuses every write there, and Keystone reports
that as a bare 500. This WSGI layer answers instead, before Keystone runs, with
a 403 whose message says where writes belong, so that ``openstack user create``
against the wrong site fails at once and clearly.

Authentication (``POST /v3/auth/tokens``) and the EC2/S3 signature checks stay
open: with Fernet tokens they read only. Revoking a token
(``DELETE /v3/auth/tokens``) writes a revocation event and is refused like any
other write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Requests that read only although their method is not safe.
READ_ONLY_POSTS = ("/v3/auth/tokens", "/v3/ec2tokens", "/v3/s3tokens")


def is_write(method: str, path: str) -> bool:
    """Whether a request to Keystone may write to its database."""
    method = method.upper()
    if method in SAFE_METHODS:
        return False
    path = "/" + path.strip("/")
    return not (method == "POST" and path in READ_ONLY_POSTS)


class ReadOnlyGuard:
    """WSGI middleware refusing writes with 403 and the master's URL.

    :param app: Keystone's WSGI application.
    :param master_url: the identity URL of the master site, named in the message.
    :param site: a name for this replica (e.g. its region), named in the message.
    """

    def __init__(self, app: Callable, master_url: str, site: str = ""):
        self.app = app
        self.master_url = master_url
        self.site = site

    def message(self) -> str:
        where = f" of {self.site}" if self.site else ""
        return (f"this Keystone{where} serves a read-only replica of the identity "
                f"database: create, update and delete at the master site, "
                f"{self.master_url}")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if not is_write(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")):
            return self.app(environ, start_response)
        body = json.dumps({"error": {"code": 403, "title": "Forbidden",
                                     "message": self.message()}}).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"),
                                         ("Content-Length", str(len(body)))])
        return [body]


def filter_factory(global_conf: dict, **local_conf: str) -> Callable:
    """paste.deploy entry: ``[filter:read_only] paste.filter_factory =
    kingbird.identity.readonly:filter_factory`` with ``master_url = ...``."""

    def _filter(app: Callable) -> ReadOnlyGuard:
        return ReadOnlyGuard(app, local_conf["master_url"], local_conf.get("site", ""))

    return _filter


def _is_read_only_error(exc: BaseException) -> bool:
    while exc is not None:
        if "read-only transaction" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def tolerate_read_only_login_bookkeeping() -> None:
    """Let a replica authenticate without writing to its read-only database.

    Keystone writes on every password login: the user's ``last_active_at``
    (once a day, even when inactivity lockout is off) and the failed-login
    counters (even when lockout is off). At a replica each of those writes
    fails, and the login with it (500). Patched here, in Keystone's own process
    before it serves: those bookkeeping writes are skipped (logged) when the
    database is read-only. Lockout and inactivity are still enforced from what
    the master site records.
    """
    import logging

    from keystone.identity.backends import sql as identity_sql
    from keystone.identity.shadow_backends import sql as shadow_sql

    log = logging.getLogger(__name__)

    def tolerant(method):
        def wrapper(self, user_id):
            try:
                return method(self, user_id)
            except Exception as exc:
                if not _is_read_only_error(exc):
                    raise
                log.info("read-only replica: %s of user %s not recorded", method.__name__,
                         user_id)
                return None

        wrapper.__wrapped__ = method
        wrapper.__name__ = method.__name__
        return wrapper

    for cls, name in ((identity_sql.Identity, "_record_failed_auth"),
                      (identity_sql.Identity, "_reset_failed_auth"),
                      (shadow_sql.ShadowUsers, "set_last_active_at")):
        method = getattr(cls, name)
        if not hasattr(method, "__wrapped__"):
            setattr(cls, name, tolerant(method))
