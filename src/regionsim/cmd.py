"""``regionsim``: serve N simulated OpenStack regions behind a real Keystone.

Example::

    REGIONSIM_AUTH_PASSWORD=secret regionsim --keystone-url http://127.0.0.1:5000/v3 \\
        --region RegionOne=9001 --region RegionTwo=9002 --control-port 9000 \\
        --auth-username admin --auth-project admin

Each region gets its own port; ``--region NAME=PORT@KEYSTONE_URL`` points a region
at its own Keystone for token validation. The service credentials are those
keystonemiddleware uses to validate tokens. Registering the printed endpoints in
Keystone is left to the deployer (``kingbird-demo`` does it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading

from regionsim.app import catalog_entries
from regionsim.server import RegionSpec, Simulator
from regionsim.topology import DEFAULT_REGIONS, free_port, region_names


def _parse_region(text: str, default_keystone: str) -> RegionSpec:
    name, _, rest = text.partition("=")
    port_text, _, keystone = rest.partition("@")
    if not name:
        raise argparse.ArgumentTypeError(f"bad --region {text!r}: want NAME[=PORT[@URL]]")
    try:
        port = int(port_text) if port_text else 0
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in --region {text!r}") from None
    return RegionSpec(name=name, port=port or free_port(),
                      keystone_url=keystone or default_keystone)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regionsim", description=__doc__.split("\n")[0])
    parser.add_argument("--keystone-url", required=True,
                        help="Keystone v3 URL, e.g. http://h:5000/v3")
    parser.add_argument("--region", action="append", default=[],
                        help="NAME[=PORT[@KEYSTONE_URL]]; repeat. Default: three regions.")
    parser.add_argument("--regions", type=int,
                        help="Number of regions RegionOne.. (instead of --region)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=16, help="Worker threads per region")
    parser.add_argument("--auth-username", default="admin")
    parser.add_argument("--auth-project", default="admin")
    parser.add_argument("--auth-domain", default="Default")
    parser.add_argument("--ready-file", help="Write the endpoints as JSON here once serving")
    parser.add_argument("--log-level", default="WARNING")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    password = os.environ.get("REGIONSIM_AUTH_PASSWORD")
    if not password:
        print("regionsim: set REGIONSIM_AUTH_PASSWORD to the service user's password",
              file=sys.stderr)
        return 2
    texts = args.region or region_names(args.regions or len(DEFAULT_REGIONS))
    try:
        specs = [_parse_region(t, args.keystone_url) for t in texts]
    except argparse.ArgumentTypeError as exc:
        print(f"regionsim: {exc}", file=sys.stderr)
        return 2
    auth_conf = {
        "www_authenticate_uri": args.keystone_url, "auth_url": args.keystone_url,
        "auth_type": "password", "username": args.auth_username, "password": password,
        "project_name": args.auth_project, "user_domain_name": args.auth_domain,
        "project_domain_name": args.auth_domain,
    }
    sim = Simulator(specs, auth_conf, host=args.host,
                    control_port=args.control_port or None, threads=args.threads)
    sim.start()
    endpoints = {
        "control_url": sim.control_url,
        "regions": {name: {"url": sim.base_url(name),
                           "catalog": catalog_entries(sim.base_url(name))}
                    for name in sim.regions},
    }
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(endpoints, fh)
        os.replace(tmp, args.ready_file)
    else:
        print(json.dumps(endpoints, indent=2), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
