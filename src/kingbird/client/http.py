"""HTTP plumbing of the client: where the API lives and how its errors become exceptions.

This is the one place that turns an HTTP answer (or the lack of one) into an
exception: the classes of ``kingbird.client.exceptions``, the client's copy of the
hierarchy the server maps to HTTP. Each raised exception carries ``http_status``: the
status actually received, or ``None`` when there was no answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import session as ks_session

from kingbird.client import exceptions
from kingbird.client.exceptions import (
    AuthenticationFailed,
    ConnectionFailed,
    EndpointNotFound,
    ProjectUnknown,
)

SERVICE_TYPE = "synchronization"

_BY_STATUS: dict[int, type[exceptions.KingbirdError]] = {
    cls.code: cls for cls in exceptions.STATUS_CLASSES}


def _error(cls: type[exceptions.KingbirdError], message: str,
           http_status: int | None = None) -> exceptions.KingbirdError:
    exc = cls(" ".join(str(message).split()))  # one line, whatever the server sent
    exc.http_status = http_status
    return exc


def _for_status(status: int, title: str, message: str) -> exceptions.KingbirdError:
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return _error(cls, message or title or cls.title, status)
    # A status without a class of its own (500, 502, 405...): keep what was sent.
    exc = _error(exceptions.KingbirdError, message or title or f"HTTP {status}", status)
    exc.code, exc.title = status, title or f"HTTP {status}"
    return exc


def error_from_response(status: int, body: Any, reason: str = "") -> exceptions.KingbirdError:
    """The exception for an HTTP error answer of the Kingbird API.

    :param status: the HTTP status code (>= 400).
    :param body: the decoded JSON body, or the raw text when it is not JSON.
    :param reason: the HTTP reason phrase, used when the body says nothing.
    :returns: an instance of the ``kingbird.client.exceptions`` class for ``status``, its
        message the API's own.
    """
    title, message = reason, ""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        title = body["error"].get("title") or title
        message = body["error"].get("message") or ""
    elif isinstance(body, str):
        message = body.strip()[:200]
    return _for_status(status, title, message)


def error_from_keystoneauth(exc: ksa_exc.ClientException) -> exceptions.KingbirdError:
    """The exception for a failure inside keystoneauth: no answer, no token, no endpoint."""
    if isinstance(exc, ksa_exc.ConnectionError):
        return _error(ConnectionFailed, _connection_message(exc))
    if isinstance(exc, ksa_exc.EndpointNotFound):
        return _error(EndpointNotFound,
                      f"no {SERVICE_TYPE!r} endpoint in the service catalog: {exc}")
    if isinstance(exc, ksa_exc.HttpError):
        # Raised while authenticating: the answer is Keystone's, not Kingbird's.
        status = exc.http_status or 401
        # keystoneauth appends "(HTTP 401) (Request-ID: ...)"; the status is shown anyway.
        message = "Keystone: " + re.sub(r"\s*\(HTTP \d+\).*$", "", exc.message or str(exc))
        if status == 401:
            return _error(AuthenticationFailed, message, status)
        return _for_status(status, "", message)
    if isinstance(exc, ksa_exc.AuthPluginException | ksa_exc.AuthorizationFailure
                  | ksa_exc.DiscoveryFailure):
        return _error(AuthenticationFailed, f"cannot authenticate: {exc}")
    return _error(exceptions.KingbirdError, str(exc))


def _connection_message(exc: ksa_exc.ConnectionError) -> str:
    """keystoneauth's first clause (it names the URL) and the innermost cause, which
    says what happened ("Connection refused") without urllib3's layers in between."""
    root: BaseException = exc
    while root.__cause__ is not None or root.__context__ is not None:
        root = root.__cause__ or root.__context__
    head = str(exc).split(": ", 1)[0]
    return head if root is exc else f"{head}: {root}"


def api_root(endpoint: str, project_id: str | None) -> str:
    """The URL the API paths hang from.

    The catalog endpoint is ``.../v1.0``, after which the user guide's routes put the
    caller's project (``/v1.0/{tenant}/os-quota-sets/...``). Without a known project
    the ``/v1.1`` routes serve the same resources and take the project from the token.

    :param endpoint: the catalog endpoint or the URL given by the user.
    :param project_id: the token's project, if known.
    :returns: a URL without a trailing slash.
    """
    url = endpoint.rstrip("/")
    match = re.search(r"/v1\.[01](/[^/]+)?$", url)
    if match is None:  # the bare service root
        return f"{url}/v1.0/{project_id}" if project_id else f"{url}/v1.1"
    if match.group(0).startswith("/v1.1") or match.group(1):
        return url  # v1.1, or a catalog entry that already names the tenant
    return f"{url}/{project_id}" if project_id else url[: match.start()] + "/v1.1"


class HttpClient:
    """JSON over a keystoneauth1 session, to one Kingbird endpoint.

    :param session: an authenticated ``keystoneauth1.session.Session``.
    :param endpoint: the Kingbird URL; looked up in the catalog when ``None``.
    :param project_id: the project of the token; asked of the session when ``None``.
    :param region_name: the region whose catalog entry to use.
    :param interface: the catalog interface (``public``, ``internal``, ``admin``).
    """

    def __init__(self, session: ks_session.Session, endpoint: str | None = None,
                 project_id: str | None = None, region_name: str | None = None,
                 interface: str = "public"):
        self.session = session
        self._endpoint = endpoint
        self._project_id = project_id
        self._region_name = region_name
        self._interface = interface
        self._root: str | None = None

    @property
    def project_id(self) -> str | None:
        """The caller's project: as given, else the token's (``None`` for a bare token)."""
        if self._project_id is None:
            try:
                self._project_id = self.session.get_project_id()
            except ksa_exc.ClientException as exc:
                raise error_from_keystoneauth(exc) from exc
        return self._project_id

    def own_project(self) -> str:
        """The caller's project id, or ``ProjectUnknown`` when the token does not tell."""
        if not self.project_id:
            raise _error(ProjectUnknown, "the project of the token is unknown (a bare "
                                         "token): name the project explicitly")
        return self.project_id

    @property
    def root(self) -> str:
        if self._root is None:
            endpoint = self._endpoint
            if endpoint is None:
                try:
                    endpoint = self.session.get_endpoint(
                        service_type=SERVICE_TYPE, interface=self._interface,
                        region_name=self._region_name)
                except ksa_exc.ClientException as exc:
                    raise error_from_keystoneauth(exc) from exc
                if not endpoint:
                    raise _error(EndpointNotFound, f"no {SERVICE_TYPE!r} endpoint in the "
                                                   "service catalog")
            self._root = api_root(endpoint, self.project_id)
        return self._root

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; return the decoded JSON answer.

        :param method: the HTTP method.
        :param path: the path below the API root, starting with ``/``.
        :param body: a JSON-serialisable body, or ``None`` for none.
        :returns: the decoded body, or ``None`` when it is empty.
        :raises kingbird.client.exceptions.KingbirdError: a subclass for the HTTP status,
            ``ConnectionFailed``, ``EndpointNotFound`` or ``AuthenticationFailed``.
        """
        kwargs: dict[str, Any] = {"raise_exc": False,
                                  "headers": {"Accept": "application/json"}}
        if body is not None:
            kwargs["json"] = body
        try:
            resp = self.session.request(self.root + path, method, **kwargs)
        except ksa_exc.ClientException as exc:
            raise error_from_keystoneauth(exc) from exc
        try:
            data = resp.json() if resp.content else None
        except ValueError:
            data = resp.text
        if resp.status_code >= 400:
            raise error_from_response(resp.status_code, data, resp.reason or "")
        return data

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    #: Pages of one list read at most by ``get_all``.
    MAX_PAGES = 1000

    def get_all(self, path: str, collection: str) -> list:
        """Every item of a paged list: the pages its ``<collection>_links`` next links
        lead to, each asked below this client's root with the link's ``limit`` and
        ``marker`` (at most ``MAX_PAGES`` pages)."""
        items: list = []
        query = ""
        for _ in range(self.MAX_PAGES):
            body = self.get(path + query)
            items += body[collection]
            following = [link.get("href", "") for link in body.get(f"{collection}_links") or ()
                         if link.get("rel") == "next"]
            params = parse_qs(urlsplit(following[0]).query) if following else {}
            if "marker" not in params:
                return items
            page = {key: params[key][-1] for key in ("limit", "marker") if key in params}
            query = ("&" if "?" in path else "?") + urlencode(page)
        return items

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body)

    def delete(self, path: str, body: Any = None) -> Any:
        return self.request("DELETE", path, body)
