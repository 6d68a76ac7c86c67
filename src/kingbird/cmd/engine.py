"""``kingbird-engine``: run the engine (quota sync, jobs) against the database.

Several engines may run against one database: work is claimed with leases, and
with ``[coordination] backend_url`` one of them at a time schedules the periodic
quota sync. With ``[engine] metrics_port`` the engine serves its own Prometheus
counters there.
"""

from __future__ import annotations

import signal
import sys

from kingbird import config
from kingbird.cmd import logs
from kingbird.core import metrics
from kingbird.runtime import build_runtime


def main(argv: list[str] | None = None) -> int:
    conf = config.load_config(sys.argv[1:] if argv is None else argv, prog="kingbird-engine")
    logs.setup()
    runtime = build_runtime(conf)
    engine = runtime.build_engine()
    if conf.engine.metrics_port:
        metrics.serve(conf.engine.metrics_host, conf.engine.metrics_port)
    signal.signal(signal.SIGTERM, lambda *_: engine.stop())
    signal.signal(signal.SIGINT, lambda *_: engine.stop())
    print(f"kingbird-engine {runtime.engine_id()} started", flush=True)
    engine.run_forever()
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
