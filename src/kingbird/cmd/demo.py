"""``kingbird-demo``: a whole multi-region cloud on this machine, in one command.

Starts a real Keystone, ``regionsim`` with N regions, the Kingbird API and an
in-process engine, Kingbird managing Keystone's Fernet keys with a
``kingbird-keystone-agent``; prints what to try; stops everything on Ctrl-C or
SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from kingbird.cmd import logs
from kingbird.demo import regionsim_launcher
from kingbird.demo.stack import Stack, StackSettings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kingbird-demo", description=__doc__.split("\n")[0])
    parser.add_argument("--regions", type=int, default=3, help="number of regions (default 3)")
    parser.add_argument("--state-dir", default=".demo", help="where state is kept (default .demo)")
    parser.add_argument("--api-port", type=int, default=8118, help="Kingbird API port (8118)")
    parser.add_argument("--sync-interval", type=int, default=60,
                        help="seconds between periodic quota syncs (default 60)")
    parser.add_argument("--allocation", choices=["escrow", "classic"],
                        help="how global limits are divided among regions "
                        "([quota] allocation; default escrow)")
    parser.add_argument("--identity", choices=["single", "star"], default="single",
                        help="single: one Keystone for every region (default); star: "
                        "Keystone per region on a replicated PostgreSQL, Fernet keys "
                        "managed by Kingbird (see kingbird.demo.star)")
    parser.add_argument("--replica-nodes", type=int, default=1,
                        help="star: Keystone nodes in each non-master region (default 1)")
    parser.add_argument("--no-engine", action="store_true",
                        help="do not run the engine in this process (run kingbird-engine)")
    parser.add_argument("--ready-file", help="write the stack's URLs and files here as JSON "
                        "once everything serves (for scripts and tests)")
    return parser


def what_to_try(summary: dict) -> str:
    sd = summary["state_dir"]
    root = summary["kingbird_url"].rsplit("/v1.0", 1)[0]
    return f"""
Kingbird demo is ready ({len(summary['regions'])} regions: {', '.join(summary['regions'])}).

  Keystone      {summary['keystone_url']}
  Kingbird API  {summary['kingbird_url']}
  regionsim     control API {summary['regionsim_control_url']}
  logs          {sd}/kingbird.log, {sd}/{regionsim_launcher.LOG_FILE}, {sd}/keystone/

Try, in another terminal:

  source {summary['admin_openrc']}
  export kb_token=$(.venv/bin/python -m kingbird.demo.token)
  export admin_tenant_id=$(.venv/bin/python -m kingbird.demo.token --project-id)
  export tenant_id=$(.venv/bin/python -m kingbird.demo.token --project-id demo)
  curl -s -H "X-Auth-Token: $kb_token" {root}/ | python3 -m json.tool
  curl -s -H "X-Auth-Token: $kb_token" \\
       {root}/v1.0/$admin_tenant_id/os-quota-sets/$tenant_id/detail

  Fernet keys (Keystone's, managed by Kingbird; see the README, "Multisite identity"):
  curl -s -H "X-Auth-Token: $kb_token" {root}/v1.1/os-fernet-keys | python3 -m json.tool
  curl -s -X POST -H "X-Auth-Token: $kb_token" {root}/v1.1/os-fernet-keys/rotate
  curl -s -H "X-Auth-Token: $kb_token" {root}/v1.1/os-multisite-identity | python3 -m json.tool
  curl -s {root}/metrics | grep ^kingbird_fernet

  (member credentials: {summary['member_openrc']}; clouds.yaml: {summary['clouds_yaml']};
   Keystone agent: {summary['agent_openrc']}, log {sd}/agent-*.log)

Press Ctrl-C to stop.
"""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stack_class, settings_class, extra = Stack, StackSettings, {}
    if args.identity == "star":
        from kingbird.demo import star

        stack_class, settings_class = star.StarStack, star.StarSettings
        extra = {"replica_nodes": args.replica_nodes}
    settings = settings_class(state_dir=Path(args.state_dir), regions=args.regions,
                              api_port=args.api_port, sync_interval=args.sync_interval,
                              engine=not args.no_engine, allocation=args.allocation, **extra)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    logs.setup("INFO", str(settings.state_dir / "kingbird.log"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    started = time.monotonic()
    stack = stack_class(settings)
    try:
        stack.start()
    except Exception as exc:
        print(f"kingbird-demo: could not start: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    summary = stack.summary()
    summary["startup_seconds"] = round(time.monotonic() - started, 2)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(summary, fh)
        os.replace(tmp, args.ready_file)
    print(what_to_try(summary), flush=True)
    if args.identity == "star":
        print(star.what_to_try(summary), flush=True)
    print(f"(started in {summary['startup_seconds']} s)", flush=True)
    stop.wait()
    print("stopping...", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
