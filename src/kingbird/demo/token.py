"""Print a token (or a project or user id) for the credentials in the ``OS_*``
environment.

A convenience of the demo for the user guide's curl lines, which need
``$kb_token``, ``$admin_tenant_id`` and ``$tenant_id``, and for registering a
Keystone node, which needs its agent user's id; ``openstack token issue``,
``openstack project show`` and ``openstack user show`` do the same where
python-openstackclient is installed.
"""

from __future__ import annotations

import argparse
import os
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kingbird.demo.token")
    parser.add_argument("--project-id", nargs="?", const="", metavar="NAME",
                        help="print the id of project NAME (default: the token's project)")
    parser.add_argument("--user-id", metavar="NAME",
                        help="print the id of user NAME (in the Default domain)")
    args = parser.parse_args(argv)
    try:
        auth = v3.Password(auth_url=os.environ["OS_AUTH_URL"],
                           username=os.environ["OS_USERNAME"],
                           password=os.environ["OS_PASSWORD"],
                           project_name=os.environ["OS_PROJECT_NAME"],
                           user_domain_name=os.environ.get("OS_USER_DOMAIN_NAME", "Default"),
                           project_domain_name=os.environ.get("OS_PROJECT_DOMAIN_NAME", "Default"))
    except KeyError as exc:
        print(f"set {exc.args[0]} (source an openrc file first)", file=sys.stderr)
        return 2
    session = ks_session.Session(auth=auth, timeout=30)
    identity = {"service_type": "identity", "interface": "public"}
    if args.user_id is not None:
        found = session.get("/users", params={"name": args.user_id, "domain_id": "default"},
                            endpoint_filter=identity).json()["users"]
        if not found:
            print(f"no user named {args.user_id}", file=sys.stderr)
            return 1
        print(found[0]["id"])
    elif args.project_id is None:
        print(session.get_token())
    elif args.project_id == "":
        print(session.get_project_id())
    else:
        found = session.get("/projects", params={"name": args.project_id},
                            endpoint_filter=identity).json()["projects"]
        if not found:
            print(f"no project named {args.project_id}", file=sys.stderr)
            return 1
        print(found[0]["id"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
