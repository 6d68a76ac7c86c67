"""``kingbird-api``: serve the Kingbird API.

``kingbird-api --config-file /etc/kingbird/kingbird.conf`` serves on
``[api] bind_host``:``bind_port`` with cheroot threads. The engine runs
separately (``kingbird-engine``); in this process ``wake_engine`` is a no-op and
engines find new work by polling the database.
"""

from __future__ import annotations

import signal
import sys
import threading

from kingbird import config
from kingbird.cmd import logs
from kingbird.cmd.serve import ApiServer
from kingbird.runtime import build_runtime


def build_wsgi_app(conf):
    return build_runtime(conf).build_api()


def main(argv: list[str] | None = None) -> int:
    conf = config.load_config(sys.argv[1:] if argv is None else argv, prog="kingbird-api")
    logs.setup()
    server = ApiServer(build_wsgi_app(conf), conf.api.bind_host, conf.api.bind_port,
                       conf.api.threads, conf.api.client_timeout)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"kingbird-api serving on {conf.api.bind_host}:{conf.api.bind_port}", flush=True)
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
