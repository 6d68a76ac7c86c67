"""The agent beside each Keystone node: keeps its Fernet key repository in step.

Every ``interval`` seconds it reports to Kingbird, as the node's own agent user
(a Keystone user holding ``[fernet] agent_role``, which an admin bound to the
node when registering it), which key set version the node holds, whether its last write
failed, and a validation probe (a token from the central Keystone, validated by
the local one). Kingbird answers with the key set when the node is behind; the
agent writes it (:mod:`kingbird.identity.repository`) and reports again at once,
which is the confirmation a pending rotation waits for.

Kingbird never pushes: a node that cannot be reached simply stops reporting,
and Kingbird then holds any promotion back.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.identity import repository

LOG = logging.getLogger(__name__)

AGENT_NAME = "kingbird-keystone-agent"


@dataclass
class AgentSettings:
    """What one agent needs; see ``kingbird-keystone-agent --help``."""

    node_name: str
    region: str
    key_repository: Path
    kingbird_url: str | None
    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    keystone_url: str | None = None  # the local node's identity URL (…/v3)
    owner: tuple[int, int] | None = None
    interval: float = 10.0
    timeout: float = 10.0
    adopt: bool = False
    credentials: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.key_repository = Path(self.key_repository)
        self.credentials = {"username": self.username, "password": self.password,
                            "project_name": self.project_name,
                            "user_domain_name": self.user_domain_name,
                            "project_domain_name": self.project_domain_name}


class KingbirdUnavailable(RuntimeError):
    """Kingbird (or the Keystone that authenticates us to it) did not answer, or
    refused: ``status`` is Kingbird's HTTP status (None when it did not answer)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _version() -> str:
    try:
        from importlib.metadata import version

        return f"{AGENT_NAME} {version('kingbird')}"
    except Exception:  # not installed: a source checkout
        return AGENT_NAME


class Agent:
    """One node's agent. ``run_once`` is one report/fetch/write cycle."""

    def __init__(self, settings: AgentSettings):
        self.settings = settings
        self.session = ks_session.Session(
            auth=v3.Password(auth_url=settings.auth_url, **settings.credentials),
            timeout=settings.timeout)
        self.last_error: str | None = None
        self._kingbird_url = settings.kingbird_url

    # -- Kingbird ------------------------------------------------------------------

    def kingbird_url(self) -> str:
        """Kingbird's root URL: configured, else the catalog's ``synchronization``."""
        if self._kingbird_url is None:
            url = self.session.get_endpoint(service_type="synchronization",
                                            interface="public",
                                            region_name=self.settings.region)
            if not url:
                raise KingbirdUnavailable("no synchronization endpoint in the catalog of "
                                          f"{self.settings.region}; pass --kingbird-url")
            self._kingbird_url = url
        root = self._kingbird_url.rstrip("/")
        for suffix in ("/v1.0", "/v1.1"):
            if root.endswith(suffix):
                root = root[: -len(suffix)]
        return root

    def _post(self, path: str, body: dict) -> dict:
        url = self.kingbird_url() + path
        try:
            answer = self.session.post(url, json=body, raise_exc=False,
                                       headers={"Accept": "application/json"})
        except (ks_exc.ConnectionError, ks_exc.http.HttpError, ks_exc.ClientException) as exc:
            raise KingbirdUnavailable(f"{url}: {exc}") from exc
        if answer.status_code >= 400:
            try:
                message = answer.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = answer.text[:200]
            raise KingbirdUnavailable(f"{url} answered {answer.status_code}: {message}",
                                      status=answer.status_code)
        return answer.json()

    def report(self, version: int | None, probe: dict | None) -> dict:
        """Tell Kingbird what the node holds; returns its answer."""
        body = {"node": {"region": self.settings.region, "version": version,
                         "keystone_url": self.settings.keystone_url,
                         "error": self.last_error, "agent": _version(), "probe": probe}}
        return self._post(f"/v1.1/os-fernet-keys/nodes/{self.settings.node_name}/sync", body)

    # -- probe -----------------------------------------------------------------------

    def probe(self) -> dict[str, Any] | None:
        """Validate a token at the local Keystone: one issued centrally if the
        central Keystone answers, else one issued locally."""
        url = self.settings.keystone_url
        if not url:
            return None
        checked_at = dt.datetime.now(dt.UTC).isoformat()
        detail = "token issued by the central Keystone"
        try:
            token = self.session.get_token()
        except ks_exc.ClientException:
            detail = "central Keystone unreachable: token issued by the local Keystone"
            try:
                local = ks_session.Session(auth=v3.Password(auth_url=url,
                                                            **self.settings.credentials),
                                           timeout=self.settings.timeout)
                token = local.get_token()
            except ks_exc.ClientException as exc:
                return {"ok": False, "latency_ms": None, "checked_at": checked_at,
                        "detail": f"no token from any Keystone: {exc}"[:500]}
        started = time.perf_counter()
        try:
            answer = self.session.session.get(
                url.rstrip("/") + "/auth/tokens?nocatalog", timeout=self.settings.timeout,
                headers={"X-Auth-Token": token, "X-Subject-Token": token})
        except OSError as exc:
            return {"ok": False, "latency_ms": None, "checked_at": checked_at,
                    "detail": f"local Keystone unreachable: {exc}"[:500]}
        latency = round((time.perf_counter() - started) * 1000, 2)
        ok = answer.status_code == 200
        if not ok:
            detail = f"validation answered {answer.status_code} ({detail})"
        return {"ok": ok, "latency_ms": latency, "checked_at": checked_at, "detail": detail}

    # -- cycle -----------------------------------------------------------------------

    def _adopt(self) -> None:
        files = repository.read_repository(self.settings.key_repository)
        if not files:
            LOG.warning("Kingbird holds no key set and %s is empty: nothing to adopt",
                        self.settings.key_repository)
            return
        self._post("/v1.1/os-fernet-keys/import", {"key_repository": files})
        LOG.info("Kingbird adopted the %d keys of %s", len(files),
                 self.settings.key_repository)

    def run_once(self) -> dict[str, Any]:
        """Report, fetch and write until Kingbird has nothing newer (3 rounds at most).

        :returns: ``{"version": held, "written": bool}``.
        :raises KingbirdUnavailable: Kingbird could not be asked.
        """
        path = self.settings.key_repository
        probe = self.probe()
        written = False
        for _ in range(3):
            version = repository.held_version(path)
            answer = self.report(version, probe)
            key_set = answer.get("key_set")
            if key_set is None:
                if self.settings.adopt:
                    self._adopt()
                    continue
                LOG.warning("%s", answer.get("message", "Kingbird holds no key set"))
                return {"version": version, "written": written}
            if key_set["up_to_date"]:
                return {"version": version, "written": written}
            try:
                counts = repository.write_repository(path, key_set["keys"], key_set["version"],
                                                     self.settings.owner)
            except repository.RepositoryError as exc:
                self.last_error = str(exc)[:1000]
                LOG.error("%s", exc)
                self.report(version, probe)  # tell Kingbird now, not at the next cycle
                return {"version": version, "written": written}
            self.last_error = None
            written = True
            LOG.info("key set version %s written to %s (%s)", key_set["version"], path,
                     ", ".join(f"{n} {k}" for k, n in counts.items()))
        return {"version": repository.held_version(path), "written": written}

    def run_forever(self, stop: threading.Event) -> None:
        """Cycle every ``interval`` seconds until ``stop`` is set; never raises."""
        while not stop.is_set():
            try:
                self.run_once()
            except KingbirdUnavailable as exc:
                if exc.status is not None and 400 <= exc.status < 500:
                    # 403/404: not registered, or not for this user; 400: a bad report
                    LOG.error("Kingbird refused this node's report, keeping the repository "
                              "as it is: %s", exc)
                else:
                    LOG.warning("Kingbird unavailable, keeping the repository as it is: %s",
                                exc)
            except Exception:  # keep the node's keys; try again next cycle
                LOG.exception("unexpected failure of the agent cycle")
            stop.wait(self.settings.interval)
