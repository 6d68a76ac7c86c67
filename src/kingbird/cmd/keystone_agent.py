"""``kingbird-keystone-agent``: keep one Keystone node's Fernet keys in step with Kingbird.

Before the first start, an admin gives the node its own agent user and registers
the node, bound to that user (only it is served the keys of that node)::

    openstack user create --project service --password-prompt keystone-r2-a-agent
    openstack role create kingbird_keystone_agent     # [fernet] agent_role, once
    openstack role add --project service --user keystone-r2-a-agent kingbird_keystone_agent
    curl -X POST -H "X-Auth-Token: $admin_token" -H "Content-Type: application/json" \\
        -d '{"node": {"name": "keystone-r2-a", "region": "RegionTwo",
                      "agent_user_id": "<id of keystone-r2-a-agent>"}}' \\
        https://kingbird:8118/v1.1/os-fernet-keys/nodes

Then run the agent beside the node (as root or as the keystone user)::

    KINGBIRD_AGENT_PASSWORD=secret kingbird-keystone-agent \\
        --auth-url http://master:5000/v3 --username keystone-r2-a-agent \\
        --project-name service --node-name keystone-r2-a --region RegionTwo \\
        --keystone-url http://127.0.0.1:5000/v3 \\
        --key-repository /etc/keystone/fernet-keys --owner keystone:keystone

Credentials default to the ``OS_*`` environment variables; the password comes
from ``KINGBIRD_AGENT_PASSWORD`` (or ``OS_PASSWORD``), never from the command
line. ``--once`` runs one cycle and prints the version held as JSON (exit 1
when Kingbird could not be asked or refused: 404, the node is not registered;
403, the user lacks the agent role or is not the one the node is bound to).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading

from kingbird.cmd import logs
from kingbird.identity import repository
from kingbird.identity.agent import Agent, AgentSettings, KingbirdUnavailable

PROG = "kingbird-keystone-agent"


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--node-name", default=socket.gethostname(),
                        help="Name this Keystone node was registered with in Kingbird "
                        "(default: host name).")
    parser.add_argument("--region", default=env("OS_REGION_NAME"), required=not
                        env("OS_REGION_NAME"), help="Region of this node ($OS_REGION_NAME).")
    parser.add_argument("--key-repository", default="/etc/keystone/fernet-keys",
                        help="Keystone's [fernet_tokens] key_repository.")
    parser.add_argument("--owner", help="USER[:GROUP] owning the key files (e.g. "
                        "keystone:keystone); default: the agent's own user.")
    parser.add_argument("--keystone-url", help="This node's identity URL (…/v3), for the "
                        "validation probe; no probe without it.")
    parser.add_argument("--kingbird-url", help="Kingbird's root URL; default: the catalog's "
                        "synchronization endpoint in --region.")
    parser.add_argument("--auth-url", default=env("OS_AUTH_URL"), required=not
                        env("OS_AUTH_URL"), help="Keystone authenticating the agent "
                        "($OS_AUTH_URL), normally the central one.")
    parser.add_argument("--username", default=env("OS_USERNAME"), required=not
                        env("OS_USERNAME"), help="The node's agent user ($OS_USERNAME): holds "
                        "[fernet] agent_role, and the node is registered for it.")
    parser.add_argument("--project-name", default=env("OS_PROJECT_NAME", "service"),
                        help="Its project ($OS_PROJECT_NAME, default service).")
    parser.add_argument("--user-domain-name", default=env("OS_USER_DOMAIN_NAME", "Default"))
    parser.add_argument("--project-domain-name",
                        default=env("OS_PROJECT_DOMAIN_NAME", "Default"))
    parser.add_argument("--interval", type=float, default=10.0,
                        help="Seconds between two reports (default 10).")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="Seconds one HTTP call may take (default 10).")
    parser.add_argument("--adopt", action="store_true",
                        help="If Kingbird holds no key set yet, give it this node's "
                        "repository (the first node of an existing deployment).")
    parser.add_argument("--once", action="store_true", help="One cycle, then exit.")
    parser.add_argument("--log-file", help="Log here instead of stderr.")
    parser.add_argument("--log-level", default="INFO")
    return parser


def settings_from_args(args: argparse.Namespace) -> AgentSettings:
    password = os.environ.get("KINGBIRD_AGENT_PASSWORD") or os.environ.get("OS_PASSWORD")
    if not password:
        raise SystemExit(f"{PROG}: set KINGBIRD_AGENT_PASSWORD (or OS_PASSWORD)")
    try:
        owner = repository.parse_owner(args.owner)
    except repository.RepositoryError as exc:
        raise SystemExit(f"{PROG}: --owner: {exc}") from None
    return AgentSettings(
        node_name=args.node_name, region=args.region, key_repository=args.key_repository,
        kingbird_url=args.kingbird_url, auth_url=args.auth_url, username=args.username,
        password=password, project_name=args.project_name,
        user_domain_name=args.user_domain_name, project_domain_name=args.project_domain_name,
        keystone_url=args.keystone_url, owner=owner, interval=args.interval,
        timeout=args.timeout, adopt=args.adopt)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.log_level, args.log_file)
    agent = Agent(settings_from_args(args))
    if args.once:
        try:
            result = agent.run_once()
        except KingbirdUnavailable as exc:
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 1
        print(json.dumps({"node": args.node_name, **result}))
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    logging.getLogger(__name__).info("%s for node %s (%s) started", PROG, args.node_name,
                                     args.region)
    agent.run_forever(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
