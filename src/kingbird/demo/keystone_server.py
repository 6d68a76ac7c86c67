"""Serve a real Keystone's WSGI application with cheroot, in its own process.

Run by :class:`kingbird.demo.keystone.KeystoneNode` as::

    python -m kingbird.demo.keystone_server --config-dir D --port P

Keystone keeps its configuration in a process-wide global (``keystone.conf.CONF``),
so each Keystone gets a process of its own: the tests and the demo can run several
nodes side by side, and stopping one is a plain SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
import time

CONFIG_FILE_NAME = "keystone.conf"


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kingbird.demo.keystone_server", description=__doc__)
    parser.add_argument("--config-dir", required=True,
                        help=f"Directory holding {CONFIG_FILE_NAME}.")
    parser.add_argument("--config-file", default=CONFIG_FILE_NAME,
                        help="File name of the configuration inside --config-dir.")
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    parser.add_argument("--port", type=int, default=0,
                        help="Port to listen on; 0 lets the kernel pick a free one.")
    parser.add_argument("--port-file",
                        help="Where to write the port actually bound, once listening "
                             "(lets the parent use --port 0 without a race).")
    parser.add_argument("--threads", type=int, default=1,
                        help="Worker threads. Keep 1 with SQLite: it takes one writer "
                             "at a time and Keystone answers 500 'database is locked' "
                             "under concurrent writes.")
    parser.add_argument("--read-only-master", metavar="URL",
                        help="The database is a read-only replica: refuse writes with a "
                             "403 naming this master identity URL "
                             "(kingbird.identity.readonly).")
    parser.add_argument("--site", default="", help="Name of this node in that message.")
    return parser.parse_args(argv)


def _free_port(host: str) -> int:
    """A port free right now on ``host``.

    Not cheroot's own ``port 0``: it then skips SO_REUSEADDR, and connections
    a client keeps open (in FIN_WAIT_2 after we exit) block a restart on the
    same port for a minute. The gap between this check and cheroot's bind is
    within one process and microseconds long.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _write_atomically(path: str, text: str) -> None:
    # The parent polls this file; a rename means it never reads half a number.
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _exit_when_orphaned(parent_pid: int) -> None:
    """SIGTERM ourselves when the launching process is gone.

    A test run killed hard (or a crashed demo) would otherwise leave Keystone
    processes holding ports forever.
    """
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def _load_application(config_dir: str, config_file: str):
    os.environ["OS_KEYSTONE_CONFIG_DIR"] = config_dir
    os.environ["OS_KEYSTONE_CONFIG_FILES"] = config_file
    # oslo.config parses sys.argv when Keystone configures itself; our own
    # options (--port...) would be rejected there, and its --config-dir would
    # pull in every *.conf of the directory.
    sys.argv = sys.argv[:1]
    # Under -m, sys.path[0] is the working directory (the state directory).
    # Keystone needs nothing from it, and stevedore keys its entry-point cache on
    # the mtime of every sys.path entry: this one would mean a new cache file
    # per node and per start.
    here = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", here)]
    from keystone.server import wsgi  # slow import (~1.5 s): only in the child

    return wsgi.initialize_public_application()


def main(argv: list[str] | None = None) -> int:
    """Load Keystone, listen, serve until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    from cheroot import wsgi as cheroot_wsgi

    app = _load_application(os.path.abspath(args.config_dir), args.config_file)
    if args.read_only_master:
        from kingbird.identity import readonly

        readonly.tolerate_read_only_login_bookkeeping()
        app = readonly.ReadOnlyGuard(app, args.read_only_master, args.site)
    port = args.port or _free_port(args.host)
    server = cheroot_wsgi.Server((args.host, port), app, numthreads=args.threads,
                                 server_name="kingbird-keystone")

    def _terminate(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _terminate)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    server.prepare()
    port = server.bind_addr[1]
    if args.port_file:
        _write_atomically(args.port_file, f"{port}\n")
    print(f"keystone listening on {args.host}:{port} with {args.threads} thread(s)",
          flush=True)
    try:
        server.serve()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
