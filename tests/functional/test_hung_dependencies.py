"""No hang on a hung dependency or a slow client (issue #15, items 2, 3 and 8).

One ``kingbird-api`` (cheroot, ``THREADS`` threads) on a private PostgreSQL validates
tokens against a private Keystone, so that freezing them affects no other test. A
dependency is frozen with SIGSTOP, every process of it (PostgreSQL's backends are
processes of their own): its kernel still accepts connections and acknowledges
packets, as with a server stuck in a lock, a paused VM or a black-holed route behind
a proxy, so only Kingbird's own timeouts end the wait.

Measured times are printed (``pytest -s``).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from kb_http import wait_for
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.demo.keystone import KeystoneNode
from kingbird.demo.pgcluster import PgCluster
from regionsim.topology import free_port

pytestmark = pytest.mark.functional

THREADS = 4
KEYSTONE_TIMEOUT = 2  # [keystone_authtoken] http_connect_timeout, one retry (the default)
CLIENT_TIMEOUT = 5  # [api] client_timeout
DB_READ_TIMEOUT = 2  # [database] read_timeout
DB_CONNECT_TIMEOUT = 2  # [database] connect_timeout
SLACK = 2.5  # for a loaded 2-core machine
# What a caller may wait: a token validation tried twice, half a second apart;
KEYSTONE_BOUND = 2 * KEYSTONE_TIMEOUT + 0.5 + SLACK
# a pooled connection's ping that gets no answer, then a new connection that gets none.
DB_BOUND = DB_READ_TIMEOUT + DB_CONNECT_TIMEOUT + SLACK
# /healthcheck and / while the threads are under attack: typically answered in
# milliseconds; the bound on the slowest leaves room for a busy machine.
PUBLIC_BOUND, PUBLIC_MEDIAN = 2.0, 0.25
LIST = "/v1.1/os-sync"


@dataclass
class Stack:
    root: str
    port: int
    keystone: KeystoneNode
    pg: PgCluster

    def new_token(self) -> str:
        sess = ks_session.Session(auth=v3.Password(**self.keystone.admin_credentials()))
        try:
            return sess.get_token()
        finally:
            sess.session.close()

    def get(self, path: str, token: str | None = None, timeout: float = 30):
        """(status, seconds) of ``GET path``; status None when it did not answer."""
        headers = {"X-Auth-Token": token} if token else {}
        started = time.monotonic()
        try:
            status = requests.get(self.root + path, headers=headers, timeout=timeout).status_code
        except requests.RequestException:
            status = None
        return status, time.monotonic() - started


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    base = tmp_path_factory.mktemp("hung")
    keystone = KeystoneNode(base / "keystone")
    pg = PgCluster(base / "pg", free_port())
    api = None
    try:
        keystone.start()
        pg.start_primary()
        database = pg.create_database("kingbird")
        port = free_port()
        auth = "\n".join(f"{k} = {v}" for k, v in keystone.admin_credentials().items())
        conf = base / "kingbird.conf"
        conf.write_text(f"""[DEFAULT]
state_dir = {base}
[api]
bind_host = 127.0.0.1
bind_port = {port}
threads = {THREADS}
client_timeout = {CLIENT_TIMEOUT}
[database]
connection = {database}
read_timeout = {DB_READ_TIMEOUT}
connect_timeout = {DB_CONNECT_TIMEOUT}
statement_timeout = 1
pool_timeout = 2
[keystone_authtoken]
www_authenticate_uri = {keystone.auth_url}
http_connect_timeout = {KEYSTONE_TIMEOUT}
auth_type = password
{auth}
[service_credentials]
auth_type = password
{auth}
""")
        subprocess.run([sys.executable, "-m", "kingbird.cmd.manage", "--config-file",
                        str(conf), "db", "upgrade"], check=True, capture_output=True)
        log = open(base / "kingbird-api.log", "ab")  # noqa: SIM115 (kept by the child)
        api = subprocess.Popen([sys.executable, "-m", "kingbird.cmd.api", "--config-file",
                                str(conf)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        running = Stack(f"http://127.0.0.1:{port}", port, keystone, pg)
        wait_for(lambda: running.get("/", timeout=2)[0] == 200, timeout=60,
                 what="kingbird-api to serve")
        yield running
    finally:
        if api is not None:
            api.terminate()
            try:
                api.wait(15)
            except subprocess.TimeoutExpired:
                api.kill()
                api.wait()
        pg.stop()
        keystone.stop()


def _children(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                           text=True, check=False).stdout.split()
    return [int(child) for child in found]


@contextlib.contextmanager
def frozen(pid: int):
    """``pid`` and its children stopped by SIGSTOP until the block ends."""
    pids = [pid, *_children(pid)]
    for each in pids:
        os.kill(each, signal.SIGSTOP)
    try:
        yield
    finally:
        for each in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGCONT)


def _poll_public(stack: Stack, seconds: float) -> list[tuple[str, int | None, float]]:
    """GET /healthcheck and / in turn for ``seconds``: (path, status, seconds) each."""
    seen = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for path in ("/healthcheck", "/"):
            seen.append((path, *stack.get(path, timeout=10)))
        time.sleep(0.2)
    return seen


def _assert_public_answered(seen) -> None:
    slow = [s for s in seen if s[1] != 200 or s[2] > PUBLIC_BOUND]
    assert not slow, f"public paths not answered within {PUBLIC_BOUND} s: {slow}"
    assert statistics.median(t for *_, t in seen) < PUBLIC_MEDIAN, seen


def test_a_hung_keystone_gets_503_in_bounded_time_while_public_paths_answer(stack):
    cached = stack.new_token()
    assert stack.get(LIST, cached)[0] == 200
    fresh = [stack.new_token() for _ in range(2 * THREADS)]
    with frozen(stack.keystone._process.pid), cf.ThreadPoolExecutor(2 * THREADS) as pool:
        waits = [pool.submit(stack.get, LIST, token) for token in fresh]
        time.sleep(0.3)  # every thread of kingbird-api is waiting or has refused by now
        public = _poll_public(stack, KEYSTONE_TIMEOUT)
        answers = [wait.result() for wait in waits]
    print(f"\nhung Keystone: {len(fresh)} fresh tokens -> statuses "
          f"{sorted(s for s, _ in answers)}, slowest {max(t for _, t in answers):.2f} s; "
          f"public paths: {len(public)} answers, slowest {max(t for *_, t in public):.3f} s")
    assert [s for s, _ in answers] == [503] * len(fresh), answers
    assert max(t for _, t in answers) < KEYSTONE_BOUND, answers
    _assert_public_answered(public)
    wait_for(lambda: stack.get(LIST, stack.new_token())[0] == 200, timeout=30,
             what="a fresh token to work again")


def _slow_client(stack: Stack) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", stack.port), timeout=30)
    client.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n")
    return client


def _closed_by_server(client: socket.socket) -> bool:
    """Whether the server has given up on ``client`` (an answer, or end of stream)."""
    client.settimeout(0.01)
    try:
        client.recv(4096)
    except TimeoutError:
        return False
    except OSError:
        pass  # reset
    return True


def test_slow_clients_do_not_take_the_threads(stack):
    clients = [_slow_client(stack) for _ in range(2 * THREADS)]
    silent = [socket.create_connection(("127.0.0.1", stack.port), timeout=30)
              for _ in range(2 * THREADS)]
    try:
        public = []
        for line in range(CLIENT_TIMEOUT - 1):  # one header line a second each
            public += _poll_public(stack, 1.0)
            for client in clients:
                with contextlib.suppress(OSError):
                    client.sendall(b"X-Slow-%d: 1\r\n" % line)
        print(f"\n{len(clients)} slow and {len(silent)} silent clients: public paths "
              f"{len(public)} answers, slowest {max(t for *_, t in public):.3f} s")
        _assert_public_answered(public)
        # Each had client_timeout seconds from its first byte to send its headers.
        wait_for(lambda: all(_closed_by_server(c) for c in clients + silent),
                 timeout=CLIENT_TIMEOUT + 2, interval=0.2, what="the slow clients to be cut")
    finally:
        for client in clients + silent:
            client.close()


def _raw(stack: Stack, head: bytes, body: bytes = b"", wait: float = 15):
    """(status, json or text, seconds) of a raw request whose body may be short."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=wait) as client:
        started = time.monotonic()
        client.sendall(head + b"\r\n\r\n" + body)
        data = b""
        with contextlib.suppress(TimeoutError):
            while chunk := client.recv(65536):
                data += chunk
                if b"\r\n\r\n" in data:
                    length = [int(line.split(b":")[1]) for line in data.split(b"\r\n")
                              if line.lower().startswith(b"content-length:")]
                    if length and len(data.split(b"\r\n\r\n", 1)[1]) >= length[0]:
                        break
        elapsed = time.monotonic() - started
    status_line, _, rest = data.partition(b"\r\n")
    status = int(status_line.split()[1]) if status_line else None
    payload = rest.partition(b"\r\n\r\n")[2]
    with contextlib.suppress(ValueError):
        payload = json.loads(payload)
    return status, payload, elapsed


POST = b"POST /v1.1/os-sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"


@pytest.mark.parametrize("length", [b"-5", b"+5", b"5_0", b"abc", b"1e3"])
def test_a_malformed_content_length_is_a_400_at_once(stack, length):
    status, payload, elapsed = _raw(stack, POST + b"\r\nContent-Length: " + length, b"{}")
    assert status == 400, payload
    assert elapsed < PUBLIC_BOUND


def test_a_body_that_does_not_arrive_is_a_408_within_the_client_timeout(stack):
    status, payload, elapsed = _raw(stack, POST + b"\r\nContent-Length: 100", b'{"a":')
    print(f"\nbody 95 bytes short: {status} after {elapsed:.2f} s")
    assert status == 408, payload
    assert payload["error"]["code"] == 408
    assert elapsed < CLIENT_TIMEOUT + SLACK


def test_a_hung_database_gets_503_in_bounded_time(stack):
    token = stack.new_token()
    assert stack.get(LIST, token)[0] == 200
    with frozen(stack.pg.primary._process.pid), cf.ThreadPoolExecutor(4) as pool:
        waits = [pool.submit(stack.get, path, token)
                 for path in (LIST, LIST, "/healthcheck")]
        time.sleep(0.3)  # three of the four threads wait on the database by now
        root = stack.get("/", timeout=10)
        answers = [wait.result() for wait in waits]
    print(f"\nhung PostgreSQL: {answers}; / {root}")
    assert [s for s, _ in answers] == [503, 503, 503], answers
    assert max(t for _, t in answers) < DB_BOUND, answers
    assert root[0] == 200 and root[1] < PUBLIC_BOUND
    wait_for(lambda: stack.get(LIST, token)[0] == 200, timeout=30,
             what="the API to use the database again")


def test_none_of_these_faults_was_a_500(stack):
    log = Path(stack.keystone.state_dir).parent / "kingbird-api.log"
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "unexpected error" not in text
