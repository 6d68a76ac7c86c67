"""gunicorn settings for the Kingbird API (``gunicorn -c python:kingbird.cmd.gunicorn_conf``).

- Listens where ``[api] bind_host`` and ``bind_port`` of ``$KINGBIRD_CONFIG_FILE``
  say (``--bind`` on the command line wins).
- ``$KINGBIRD_API_WORKERS`` processes (default 4) of ``$KINGBIRD_API_THREADS``
  threads each (default 8): a request may wait on regions (quota detail).
- gunicorn reads requests with its worker threads: run it behind a proxy that
  buffers whole requests (nginx by default does) and bounds slow clients; the
  README's "Scale-out mode" shows one.
- Each worker builds its application when it starts, after the fork.
- Prometheus counters of all workers are summed at ``/metrics``: this file sets
  ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary directory unless given) before
  any worker imports prometheus-client, and forgets the counters' files of
  workers that exited.
"""

from __future__ import annotations

import glob
import os
import tempfile

# First, before anything imports prometheus_client (the workers inherit it).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kingbird-api-metrics-")
for _stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
    os.unlink(_stale)


def _bind() -> list[str]:
    from kingbird import config
    from kingbird.cmd.wsgi import config_files

    args = [arg for path in config_files() for arg in ("--config-file", path)]
    conf = config.load_config(args, prog="kingbird-api")
    return [f"{conf.api.bind_host}:{conf.api.bind_port}"]


bind = _bind()
workers = int(os.environ.get("KINGBIRD_API_WORKERS", "4"))
worker_class = "gthread"
# Set in the environment, so that each worker's application knows its thread count
# (the share of threads that may wait on Keystone, [api] auth_concurrency).
threads = int(os.environ.setdefault("KINGBIRD_API_THREADS", "8"))
timeout = 60
graceful_timeout = 30
proc_name = "kingbird-api"


def post_worker_init(worker):
    from kingbird.cmd.wsgi import application

    application.load()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
