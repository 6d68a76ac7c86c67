"""``kingbird-engine``: run the engine (quota sync, jobs) against the database.

Several engines may run against one database: work is claimed with leases.
"""

from __future__ import annotations

import signal
import sys

from kingbird import config
from kingbird.cmd import logs
from kingbird.runtime import build_runtime


def main(argv: list[str] | None = None) -> int:
    conf = config.load_config(sys.argv[1:] if argv is None else argv, prog="kingbird-engine")
    logs.setup()
    runtime = build_runtime(conf)
    engine = runtime.build_engine()
    signal.signal(signal.SIGTERM, lambda *_: engine.stop())
    signal.signal(signal.SIGINT, lambda *_: engine.stop())
    print(f"kingbird-engine {runtime.engine_id()} started", flush=True)
    engine.run_forever()
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
