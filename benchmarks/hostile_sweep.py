"""Hostile sweep: every operation of ``/openapi.json``, as the admin, a member, an
unscoped token and no token, on SQLite and on PostgreSQL; requests sent, answers
by status, and every 5xx (there should be none).

Everything is real and separate processes: ``kingbird-demo`` (Keystone,
regionsim, no engine) in a temporary directory, then for each database a
``kingbird-api`` with the demo's configuration on a database of its own (a SQLite
file; a scratch database on ``--postgresql``), with Fernet key management on
(``kingbird.demo.extra_api``): the same requests meet both databases.

The cases of each operation, drawn from its entry in the document:

- path parameters: NUL, a newline, an encoded surrogate, traversal, 300
  characters, blanks, SQL, a made-up UUID, an id that is no UUID, another project;
- query arguments on every GET: NUL, an encoded surrogate, odd filters;
- bodies: a plausible body built from the request schema, then each of its fields
  in turn replaced by hostile text (NUL, lone surrogates, 5000 characters, RTL and
  emoji, Python, SQL), hostile numbers (2**64, -2**64, 2**31, NaN, Infinity, 1e400,
  booleans, strings) and wrong types, each required key dropped and an unexpected
  key added; and bodies any route must refuse (not JSON, deep nesting, a Python
  call, invalid UTF-8, a wrong content type, over the size limit).

Every path case is sent; of the body cases, ``--cases`` per operation and caller,
drawn with ``--seed`` (the same seed sends the same requests).

    .venv/bin/python benchmarks/hostile_sweep.py            # or: make sweep
    .venv/bin/python benchmarks/hostile_sweep.py --cases 80 --seed 7 --backends postgresql

Exit status 1 when any answer is a 5xx or none came (each is listed). The figures
are saved as JSON in ``--out``.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import random
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy.exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from kingbird.demo import processes
from kingbird.demo.extra_api import kingbird_api, scratch_database
from kingbird.demo.keystone_provision import Provisioner
from kingbird.demo.regionsim_launcher import free_port

CALLERS = ("admin", "member", "unscoped", "none")
MAX_BODY = 114688  # [api] max_request_body_size (the default, the demo's)
NAN, INF, HUGE_FLOAT = "\x00NaN\x00", "\x00Infinity\x00", "\x00-1e400\x00"  # raw JSON tokens

HOSTILE_TEXT = ["", " ", "\x00", "name\x00", "\ud800", "x\udfff", "\u202e\U0001f600" * 40,
                "x" * 5000, "../../../etc/passwd", "' OR '1'='1' --",
                "__import__('os').system('id')", "%00", "\n", "RegionOne\x00", "True"]
HOSTILE_NUMBERS = [2**64, -2**64, 2**63, 2**31, -1, 0, 0.5, NAN, INF, HUGE_FLOAT, True,
                   "1", None, [], {}]
PATH_VALUES = ["%00", "%0A", "%ED%A0%80", "..%2F..%2Fetc%2Fpasswd", "x" * 300, "%20",
               "'%20OR%20'1'%3D'1", "%E2%80%AE%F0%9F%98%80"]
QUERIES = ["?plan_id=%00", "?all_projects=1", "?x=%ED%A0%80", "?limit=-1&marker=%00",
           "?plan_id=" + "%27" * 40]
RAW_BODIES = [(b"{", None), (b"[]", None), (b"null", None), (b'"x"', None),
              (b"[" * 5000 + b"]" * 5000, None), (b"__import__('os').system('id')", None),
              (b'{"a": "\xff\xfe"}', None), (b'{"a": 1}', "text/plain"),
              (b'{"a": "' + b"y" * (MAX_BODY + 10) + b'"}', None), (b"\x00", None)]
# Values for fields by name, so that a plausible body gets past the first checks.
HINTS = {"region": "RegionOne", "source": "RegionOne", "source_region": "RegionOne",
         "remote_region": "RegionTwo", "recovery_region": "RegionTwo", "target": ["RegionTwo"],
         "regions": ["RegionOne", "RegionTwo"], "gateway_regions": ["RegionOne"],
         "cidr": "10.213.0.0/24",
         "ip_address": "10.213.0.10", "resource_type": "keypair"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=30,
                        help="body cases per operation and caller (default 30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")
    parser.add_argument("--postgresql", default="postgresql+psycopg2://postgres@127.0.0.1:5432/"
                        "postgres", help="a PostgreSQL server where a scratch database is made")
    parser.add_argument("--workers", type=int, default=8, help="requests in flight")
    parser.add_argument("--out", default="benchmarks/results",
                        help="directory where the figures are saved as JSON")
    return parser.parse_args(argv)


# --- bodies from a schema --------------------------------------------------------------

def example(schema: dict, key: str = "", salt: int = 0):
    """A plausible value for ``schema`` (a field named ``key``)."""
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if key in HINTS:
        hint = HINTS[key]
        if kind == "array" and isinstance(hint, str):
            return [hint]
        return hint[0] if kind == "string" and isinstance(hint, list) else hint
    for branches in ("oneOf", "anyOf"):
        if branches in schema:
            return example(schema[branches][0], key, salt)
    if schema.get("enum"):
        return next(v for v in schema["enum"] if v is not None)
    if kind == "object":
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict):
            regions = ["RegionOne", "RegionTwo", "RegionThree"]
            count = max(1, schema.get("minProperties", 1))
            return {regions[i % 3]: example(extra, "", i) for i in range(count)}
        return {name: example(sub, name) for name, sub in properties.items()}
    if kind == "array":
        items = schema.get("items", {})
        return [example(items, "", i) for i in range(max(1, schema.get("minItems", 1)))]
    return {"string": f"sweep-{salt}", "integer": schema.get("minimum", 1), "number": 1.0,
            "boolean": False}.get(kind)


def leaves(value, path=()):
    """(path, value) of every leaf and container of ``value``, outermost first."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def replaced(body, path, value):
    if not path:
        return value
    copy = json.loads(json.dumps(body))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def dropped(body, path):
    copy = json.loads(json.dumps(body))
    target = copy
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return copy


def encode(body) -> bytes:
    text = json.dumps(body)
    for token in (NAN, INF, HUGE_FLOAT):
        text = text.replace(json.dumps(token), token.strip("\x00"))
    return text.encode()


def body_cases(schema: dict) -> list[tuple[bytes, str | None]]:
    base = example(schema)
    cases = [(encode(base), None)]
    for path, value in leaves(base):
        if isinstance(value, str):
            cases += [(encode(replaced(base, path, text)), None) for text in HOSTILE_TEXT]
        elif isinstance(value, bool | int | float) or value is None:
            cases += [(encode(replaced(base, path, n)), None) for n in HOSTILE_NUMBERS]
        else:
            cases += [(encode(replaced(base, path, other)), None)
                      for other in ("x", 7, None, [] if isinstance(value, dict) else {})]
            if isinstance(value, dict):
                cases.append((encode(replaced(base, path, {**value, "surprise\x00": 1})), None))
                cases += [(encode(dropped(base, (*path, key))), None) for key in value]
    return cases + RAW_BODIES


# --- the requests ----------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    caller: str
    method: str
    template: str
    path: str
    body: bytes | None
    content_type: str | None


def fill(template: str, values: dict, name: str | None = None, value: str = "") -> str:
    """``template`` with ``{name}`` as ``value``, the others from ``values`` (else a
    made-up UUID)."""
    def one(match):
        key = match.group(1)
        return value if key == name else values.get(key) or str(uuid.uuid4())
    return re.sub(r"{(\w+)}", one, template)


def requests_for(doc: dict, caller: str, values: dict, rng: random.Random,
                 cases: int) -> list[Request]:
    """Every path case and ``cases`` body cases of each operation, for ``caller``."""
    out = []
    for template, ops in doc["paths"].items():
        for method, op in ops.items():
            schema = (op.get("requestBody") or {}).get("content", {}).get(
                "application/json", {}).get("schema")
            plain_body = encode(example(schema)) if schema else None
            paths = []
            for parameter in op["parameters"]:
                name = parameter["name"]
                hostile = list(PATH_VALUES)
                if parameter["schema"].get("format") == "uuid":
                    hostile += [str(uuid.uuid4()), "not-a-uuid", str(uuid.uuid4()).upper()]
                if name in ("tenant", "project_id"):
                    hostile += [values["other_project"], "default", str(uuid.uuid4())]
                paths += [fill(template, values, name, v) for v in hostile]
            if method == "get":
                paths += [fill(template, values) + query for query in QUERIES]
            out += [Request(caller, method.upper(), template, path, plain_body, None)
                    for path in paths]
            drawn = body_cases(schema) if schema else RAW_BODIES[:3] + RAW_BODIES[-3:]
            out += [Request(caller, method.upper(), template, fill(template, values), body,
                            ctype)
                    for body, ctype in rng.sample(drawn, min(cases, len(drawn)))]
    return out


def send(root: str, tokens: dict, request: Request) -> tuple[Request, int | str, str]:
    headers = {"Content-Type": request.content_type or "application/json"}
    if tokens[request.caller]:
        headers["X-Auth-Token"] = tokens[request.caller]
    try:
        answer = requests.request(request.method, root + request.path, data=request.body,
                                  headers=headers, timeout=60)
    except requests.RequestException as exc:
        return request, "no answer", type(exc).__name__
    return request, answer.status_code, answer.text[:200]


# --- the cloud -------------------------------------------------------------------------

@contextlib.contextmanager
def demo(workdir: Path):
    ready = workdir / "ready.json"
    log = open(workdir / "demo.out", "ab")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "kingbird.cmd.demo", "--state-dir",
                             str(workdir / "demo"), "--api-port", str(free_port()),
                             "--ready-file", str(ready), "--no-engine"],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kingbird-demo did not start: see {log.name}")
            time.sleep(0.2)
        yield json.loads(ready.read_text())
    finally:
        processes.stop(proc, timeout=30)
        log.close()


def _openrc(path: str) -> dict[str, str]:
    env = {}
    for line in Path(path).read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = shlex.split(value)[0] if value else ""
    return env


def callers(summary: dict) -> tuple[dict, dict]:
    """Tokens of the four callers, and the path values they use."""
    admin = _openrc(summary["admin_openrc"])
    auth_url = admin["OS_AUTH_URL"]

    def session(user, password, project=None):
        scope = {"project_name": project, "project_domain_name": "Default"} if project else {}
        return ks_session.Session(auth=v3.Password(auth_url=auth_url, username=user,
                                                   password=password,
                                                   user_domain_name="Default", **scope))

    admin_session = session(admin["OS_USERNAME"], admin["OS_PASSWORD"], "admin")
    prov = Provisioner(admin_session, summary["keystone_url"])
    password = secrets.token_urlsafe(16)
    project, other = f"sweep-{secrets.token_hex(4)}", f"sweep-{secrets.token_hex(4)}"
    prov.ensure_user(f"{project}-member", password, project, role="member")
    prov.ensure_project(other)
    # A user with no role anywhere and no default project: its token has no scope.
    identity = {"service_type": "identity", "interface": "public"}
    admin_session.post("/users", endpoint_filter=identity, json={"user": {
        "name": f"{project}-nobody", "password": password, "domain_id": "default",
        "enabled": True}})
    ids = {p["name"]: p["id"] for p in admin_session.get(
        "/projects", endpoint_filter=identity).json()["projects"]}
    tokens = {"admin": admin_session.get_token(),
              "member": session(f"{project}-member", password, project).get_token(),
              "unscoped": session(f"{project}-nobody", password).get_token(),
              "none": None}
    values = {"tenant": ids[project], "project_id": ids[project], "class_name": "sweep",
              "node": "sweep-node", "other_project": ids[other]}
    return tokens, values


def sweep(root: str, tokens: dict, values: dict, args) -> tuple[list, float]:
    doc = requests.get(root + "/openapi.json", timeout=30).json()
    rng = random.Random(args.seed)
    planned = [r for caller in CALLERS
               for r in requests_for(doc, caller, values, rng, args.cases)]
    started = time.monotonic()
    with cf.ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(lambda r: send(root, tokens, r), planned))
    return results, time.monotonic() - started


def report(backend: str, results: list, seconds: float) -> tuple[dict, list[str]]:
    by_caller: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for request, status, _ in results:
        by_caller[request.caller][status] += 1
    statuses = sorted({s for c in by_caller.values() for s in c}, key=str)
    print(f"\n{backend}: {len(results)} requests in {seconds:.0f} s "
          f"({len(results) / seconds:.0f}/s)")
    print(f"  {'caller':<10}{'requests':>9}" + "".join(f"{s!s:>7}" for s in statuses))
    for caller in CALLERS:
        counts = by_caller[caller]
        print(f"  {caller:<10}{sum(counts.values()):>9}"
              + "".join(f"{counts.get(s, 0):>7}" for s in statuses))
    bad = [f"{backend} {r.caller} {r.method} {r.path[:120]} {r.body[:80] if r.body else b''!r}"
           f" -> {status} {text[:120]}" for r, status, text in results
           if not isinstance(status, int) or status >= 500]
    return {caller: {str(k): v for k, v in c.items()} for caller, c in by_caller.items()}, bad


def main(argv=None) -> int:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    try:
        if "postgresql" in backends:
            with scratch_database(args.postgresql):
                pass  # reachable: fail now rather than after the SQLite sweep
        figures, failures = run(args, backends)
    except sqlalchemy.exc.OperationalError as exc:
        print(f"hostile sweep: cannot reach {args.postgresql}: {exc.orig}; give another "
              "--postgresql, or --backends sqlite", file=sys.stderr)
        return 2
    total = sum(f["requests"] for f in figures.values())
    print(f"\n{total} requests, {len(failures)} answered 5xx or not at all")
    for line in failures[:200]:
        print("  " + line)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"hostile_sweep-{stamp}.json").write_text(json.dumps(
        {"seed": args.seed, "cases": args.cases, "figures": figures, "failures": failures},
        indent=2))
    return 1 if failures else 0


def run(args, backends: list[str]) -> tuple[dict, list[str]]:
    figures, failures = {}, []
    with tempfile.TemporaryDirectory(prefix="kingbird-sweep-") as tmp:
        workdir = Path(tmp)
        with demo(workdir) as summary:
            tokens, values = callers(summary)
            print(f"hostile sweep, seed {args.seed}, {args.cases} body cases per operation "
                  f"and caller; callers: {', '.join(CALLERS)}")
            for backend in backends:
                with contextlib.ExitStack() as stack:
                    url = f"sqlite:///{workdir / 'sweep.sqlite'}" if backend == "sqlite" \
                        else stack.enter_context(scratch_database(args.postgresql))
                    root = stack.enter_context(kingbird_api(summary["kingbird_conf"], url,
                                                            workdir))
                    results, seconds = sweep(root, tokens, values, args)
                counts, bad = report(backend, results, seconds)
                figures[backend] = {"requests": len(results), "seconds": round(seconds, 1),
                                    "by_caller": counts, "5xx": len(bad)}
                failures += bad
    return figures, failures


if __name__ == "__main__":
    sys.exit(main())
