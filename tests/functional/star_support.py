"""The star identity topology as a pytest fixture, and Keystone helpers over HTTP.

``star_stack`` starts what ``kingbird-demo --identity star`` starts (a
PostgreSQL primary and streaming standby, Keystone A on the primary, two
read-only Keystones on the standby for RegionTwo, regionsim, Kingbird and an
agent per Keystone) in this process, so that tests can stop and start its
parts. Tokens live ``TOKEN_LIFETIME`` seconds, so that demoted keys are pruned
while the tests run.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests

from kingbird.demo.stack import DEMO_PROJECT, DEMO_USER, SERVICE_PROJECT, agent_user
from kingbird.demo.star import StarSettings, StarStack
from regionsim.topology import free_port

TOKEN_LIFETIME = 20
NODE_TIMEOUT = 4


def issue_token(url: str, user: str, password: str, project: str,
                timeout: float = 10) -> tuple[str, dt.datetime]:
    """A project-scoped password token from the Keystone at ``url`` (…/v3)."""
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    answer = requests.post(f"{url}/auth/tokens?nocatalog", json=body, timeout=timeout)
    assert answer.status_code == 201, f"{url}: {answer.status_code} {answer.text[:300]}"
    expires = dt.datetime.fromisoformat(answer.json()["token"]["expires_at"].replace("Z",
                                                                                     "+00:00"))
    return answer.headers["X-Subject-Token"], expires


def validate(url: str, token: str, timeout: float = 10) -> int:
    """Status of validating ``token`` at the Keystone at ``url`` (200: valid)."""
    return requests.get(f"{url}/auth/tokens?nocatalog", timeout=timeout,
                        headers={"X-Auth-Token": token, "X-Subject-Token": token}).status_code


@dataclass
class Token:
    value: str
    expires: dt.datetime
    issuer: str
    phase: str


@dataclass
class Validator:
    """Validates every live token at every node that is up, continuously, in a thread.

    A token counts as live until ``guard`` seconds before it expires, so that a
    validation never races the expiry itself.
    """

    nodes: dict[str, str]  # name -> identity URL
    guard: float = 2.0
    tokens: list[Token] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    validated: set[tuple[int, str]] = field(default_factory=set)
    sweeps: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, token: Token) -> None:
        with self._lock:
            self.tokens.append(token)

    def sweep(self) -> None:
        with self._lock:
            tokens = list(enumerate(self.tokens))
            nodes = {n: u for n, u in self.nodes.items() if n not in self.down}
        for index, token in tokens:
            for name, url in nodes.items():
                left = (token.expires - dt.datetime.now(dt.UTC)).total_seconds()
                if left < self.guard:
                    break
                try:
                    status = validate(url, token.value)
                except requests.RequestException as exc:
                    if name in self.down:  # stopped meanwhile
                        continue
                    status = f"{type(exc).__name__}"
                if status == 200:
                    self.validated.add((index, name))
                elif name not in self.down:
                    self.failures.append(f"token {index} ({token.phase}, issued by "
                                         f"{token.issuer}) at {name}: {status}, "
                                         f"{left:.1f} s before expiry")
        self.sweeps += 1

    def start(self) -> None:
        def loop():
            while not self._stop.is_set():
                self.sweep()
                self._stop.wait(0.2)

        self._thread = threading.Thread(target=loop, name="validator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(60)


def make_star(state_dir, **overrides) -> StarStack:
    settings = StarSettings(
        state_dir=state_dir, api_port=free_port(), regions=2, replica_nodes=2,
        regionsim=True, engine=False, agent_interval=0.5, node_timeout=NODE_TIMEOUT,
        token_expiration=TOKEN_LIFETIME, allow_expired_window=0, retention_margin=2,
        **overrides)
    return StarStack(settings)


@pytest.fixture(scope="module")
def star_stack(tmp_path_factory):
    """The star topology, started once per module; stopped even if a test failed."""
    stack = make_star(tmp_path_factory.mktemp("star") / "demo")
    try:
        stack.start()
    except Exception:
        stack.stop()
        raise
    yield stack
    stack.stop()


def demo_token(stack: StarStack, node: str) -> tuple[str, dt.datetime]:
    return issue_token(stack.nodes[node].auth_url, DEMO_USER, stack.state.password(DEMO_USER),
                       DEMO_PROJECT)


def admin_token(stack: StarStack, node: str | None = None) -> str:
    keystone = stack.nodes[node] if node else stack.keystone
    return issue_token(keystone.auth_url, "admin", keystone.admin_password, "admin")[0]


def agent_token(stack: StarStack, node: str) -> str:
    """A token of the agent user ``node`` is registered for (from Keystone A)."""
    user = agent_user(node)
    return issue_token(stack.keystone.auth_url, user, stack.state.password(user),
                       SERVICE_PROJECT)[0]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
