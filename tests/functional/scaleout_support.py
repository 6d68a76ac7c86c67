"""Helpers of the scale-out and fault tests: a ``ScaleOutStack`` as a fixture, the
cloud as the tests see it, and readers of the engines' logs."""

from __future__ import annotations

import collections
import concurrent.futures as cf
import datetime as dt
import re
import uuid
from pathlib import Path

from demo_support import Cloud, Credentials, _read_openrc

from kingbird.demo.scaleout import ScaleOutSettings, ScaleOutStack

# An ed25519 public key: importing it is instant, where a generated RSA pair is not.
PUBLIC_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGEnRiuJCONvtghEd8rDXeLGxWRz06DJLaRk2D/FIrYp"
              " kingbird-test")

_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def start_stack(tmp_path_factory, name: str, **settings) -> ScaleOutStack:
    state_dir = tmp_path_factory.mktemp(name) / "stack"
    stack = ScaleOutStack(ScaleOutSettings(state_dir=state_dir, **settings))
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


def cloud_of(stack: ScaleOutStack) -> Cloud:
    summary = stack.summary()

    def creds(path):
        env = _read_openrc(path)
        return Credentials(env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
                           env["OS_PROJECT_NAME"])

    return Cloud(summary, creds(summary["admin_openrc"]), creds(summary["member_openrc"]))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_projects(cloud: Cloud, count: int, prefix: str) -> list[str]:
    """``count`` new Keystone projects (no users); their ids."""
    session = cloud.session_for(cloud.admin_creds)
    identity = {"service_type": "identity", "interface": "public"}

    def create(i: int) -> str:
        answer = session.post("/projects", endpoint_filter=identity, json={"project": {
            "name": f"{prefix}-{i}", "domain_id": "default", "enabled": True}})
        return answer.json()["project"]["id"]

    with cf.ThreadPoolExecutor(8) as pool:
        return list(pool.map(create, range(count)))


def parallel(func, items, workers: int = 8) -> list:
    with cf.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, items))


def log_lines(paths: list[Path]):
    """``(time, file name, text)`` of every timestamped line of the logs."""
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            match = _LINE.match(line)
            if match:
                at = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
                yield at, path.name, line


def finished_entries(paths: list[Path]) -> collections.Counter:
    """How many times each job entry id was recorded finished, over all engines."""
    counts: collections.Counter = collections.Counter()
    for _, _, line in log_lines(paths):
        match = re.search(r"sync entry (\d+): (SUCCESS|FAILURE)", line)
        if match:
            counts[int(match.group(1))] += 1
    return counts


def sync_intervals(paths: list[Path], killed: dict[str, dt.datetime] | None = None):
    """Per project, the ``(start, end, engine)`` of every quota sync in the logs; a
    sync cut short by a kill ends at the kill (``killed``: log name -> time)."""
    killed = killed or {}
    open_syncs: dict[tuple[str, str], dt.datetime] = {}
    spans: dict[str, list] = collections.defaultdict(list)
    for at, name, line in sorted(log_lines(paths)):
        match = re.search(r"quota sync of (\w+) (started|ended)", line)
        if not match:
            continue
        project, what = match.groups()
        if what == "started":
            open_syncs[(project, name)] = at
        elif (project, name) in open_syncs:
            spans[project].append((open_syncs.pop((project, name)), at, name))
    for (project, name), started in open_syncs.items():
        spans[project].append((started, killed.get(name, dt.datetime.max), name))
    return spans


def overlapping(spans: dict[str, list]) -> dict[str, list]:
    """Projects two of whose syncs overlapped in time (mutual exclusion broken)."""
    bad = {}
    for project, items in spans.items():
        items = sorted(items)
        for before, after in zip(items, items[1:], strict=False):
            if after[0] < before[1]:
                bad.setdefault(project, []).append((before, after))
    return bad
