"""The options of Kingbird's shared kernel: state directory, database, API,
regions, engine, coordination, and the service's own credentials.

Declared here, registered by ``kingbird.config`` on the ``ConfigOpts`` an entry
point builds; feature options live in each feature's ``options`` module."""

from __future__ import annotations

import os

from oslo_config import cfg

DEFAULT_STATE_DIR = os.path.abspath(".kingbird")

default_opts = [
    cfg.StrOpt(
        "state_dir",
        default=DEFAULT_STATE_DIR,
        # The real default depends on the working directory; the sample must not.
        sample_default="<working directory>/.kingbird",
        help="Directory for Kingbird's local state: the SQLite database of the embedded "
        "mode and lock files.",
    ),
]


database_opts = [
    cfg.StrOpt(
        "connection",
        secret=True,
        help="SQLAlchemy URL of the Kingbird database. Empty means a SQLite file "
        "kingbird.sqlite in state_dir. Examples: postgresql+psycopg2://u@host/kingbird, "
        "mysql+pymysql://u:p@host/kingbird.",
    ),
    cfg.IntOpt("pool_size", default=5, min=1, help="Connections kept per process."),
    cfg.IntOpt(
        "pool_timeout",
        default=5,
        min=1,
        help="Seconds a request waits for a free connection of the pool (pool_size, and "
        "up to 10 more while busy) before it gets a 503.",
    ),
    cfg.IntOpt(
        "connect_timeout",
        default=5,
        min=1,
        help="Seconds a new connection to a PostgreSQL or MySQL server may take.",
    ),
    cfg.IntOpt(
        "read_timeout",
        default=15,
        min=1,
        help="Seconds a PostgreSQL or MySQL server may take to answer one statement, "
        "commit or rollback, measured by Kingbird itself: past it the connection is "
        "closed and dropped from the pool and the request gets a 503. This is what ends "
        "the wait on a server that accepts connections but no longer answers (stopped, "
        "stuck, or behind a proxy whose backend hangs), which neither TCP keepalives "
        "nor statement_timeout can: keep it above statement_timeout. A request to a "
        "database that stopped answering gets its 503 after at most read_timeout + "
        "connect_timeout seconds.",
    ),
    cfg.IntOpt(
        "statement_timeout",
        default=10,
        min=0,
        help="PostgreSQL's statement_timeout (seconds) on Kingbird's connections: the "
        "server cancels a statement running, or waiting for a lock, longer than this "
        "(the request gets a 503). 0 turns it off. Migrations run without it.",
    ),
    cfg.IntOpt(
        "keepalive_idle",
        default=30,
        min=1,
        help="TCP keepalives of PostgreSQL connections: seconds of silence before the "
        "first probe (then one every third of this, three unanswered close the "
        "connection), so a pooled connection to a host that vanished, or across a "
        "network that now drops its packets, is found dead instead of waited on.",
    ),
]


api_opts = [
    cfg.HostAddressOpt("bind_host", default="0.0.0.0", help="Address the API listens on."),
    cfg.PortOpt("bind_port", default=8118, help="Port the API listens on."),
    cfg.IntOpt("threads", default=16, min=1, help="Worker threads of the embedded server "
               "(under gunicorn: its threads per worker, $KINGBIRD_API_THREADS)."),
    cfg.IntOpt(
        "auth_concurrency",
        default=0,
        min=0,
        help="Most requests of one process validating their token at once (a token "
        "auth_token has not cached asks Keystone, for at most [keystone_authtoken] "
        "http_connect_timeout seconds per try); one more gets a 503 at once. So a "
        "Keystone that hangs holds only these threads, and the others still answer "
        "/healthcheck, / and 503s. 0: three quarters of threads (at least 1).",
    ),
    cfg.IntOpt(
        "client_timeout",
        default=10,
        min=1,
        help="Embedded server (kingbird-api, the demo): seconds a client has to send a "
        "whole request (request line, headers and body) from its first byte, and longest "
        "idle keep-alive connection. Headers are gathered without holding a thread; a "
        "client slower than this is disconnected, or answered 408 when its body is late. "
        "Under gunicorn the buffering proxy in front sets these bounds.",
    ),
    cfg.IntOpt(
        "max_request_body_size",
        default=114688,
        min=1024,
        help="Largest request body accepted, in bytes; larger bodies get 413.",
    ),
    cfg.IntOpt(
        "max_page_size",
        default=1000,
        min=1,
        help="Most items a list route answers at once, and its page size when the request "
        "gives no 'limit'; a longer list is answered in pages, each with a "
        "'<collection>_links' next link (the request again with 'marker').",
    ),
]


regions_opts = [
    cfg.StrOpt(
        "interface",
        default="public",
        choices=["public", "internal", "admin"],
        help="Catalog interface used to reach the regions' services.",
    ),
    cfg.IntOpt(
        "concurrency",
        default=16,
        min=1,
        help="Most calls to regional services in flight at once (fan-out bound).",
    ),
    cfg.FloatOpt(
        "request_timeout",
        default=10.0,
        min=0.1,
        help="Seconds one call to a regional service may take.",
    ),
    cfg.FloatOpt(
        "detail_deadline",
        default=5.0,
        min=0.1,
        help="Seconds the API waits for regions when it answers from live data: "
        "quota detail (regions later than that are reported missing) and the "
        "lookups of the resources of a new sync job (the job is refused with a 503).",
    ),
    cfg.IntOpt(
        "retries",
        default=2,
        min=0,
        help="Retries of a call to a regional service that failed for a transient "
        "reason (5xx, 429, timeout, refused connection).",
    ),
    cfg.FloatOpt(
        "retry_backoff",
        default=0.2,
        min=0.0,
        help="Seconds before the first retry of a call to a regional service (see "
        "retries), doubled before each next one.",
    ),
]


engine_opts = [
    cfg.StrOpt("engine_id", help="Name of this engine in leases; default host:pid."),
    cfg.IntOpt("job_workers", default=8, min=1, help="Job entries executed at once."),
    cfg.FloatOpt(
        "poll_interval", default=1.0, min=0.05, help="Seconds between looks for new work."
    ),
    cfg.IntOpt(
        "lease_seconds",
        default=30,
        min=2,
        help="How long a claim on a job lasts without renewal; another engine takes "
        "over the work of an engine silent for longer.",
    ),
    cfg.IntOpt(
        "entry_retries",
        default=3,
        min=0,
        help="Times a sync job entry that failed for a transient reason (a region down, "
        "timing out or answering 5xx) is tried again, after entry_retry_backoff seconds, "
        "doubled at each retry (at most 60), before it is recorded as failed. A retry "
        "resumes from the entry's checkpoint; within each try, every call to a region "
        "is retried as [regions] retries says, and nothing else retries.",
    ),
    cfg.IntOpt(
        "entry_crashes",
        default=2,
        min=0,
        help="Times a sync job entry is claimed again after its engine stopped working on "
        "it without recording an outcome (the engine crashed, was killed or stopped, or "
        "lost the database), beyond its entry_retries: an entry is claimed at most "
        "entry_retries + entry_crashes + 1 times, then recorded as failed with the reason, "
        "so that an entry that crashes every engine copying it is not retried forever.",
    ),
    cfg.FloatOpt(
        "entry_retry_backoff",
        default=1.0,
        min=0.0,
        help="Seconds before the first retry of a sync job entry (see entry_retries).",
    ),
    cfg.HostAddressOpt(
        "metrics_host",
        default="127.0.0.1",
        help="Address of the engine's Prometheus endpoint (see metrics_port).",
    ),
    cfg.PortOpt(
        "metrics_port",
        default=0,
        help="Port where a separate kingbird-engine process serves its own Prometheus "
        "metrics (region calls, syncs and jobs it ran); 0 serves none. The API's /metrics "
        "has the cluster-wide figures read from the database.",
    ),
]


coordination_opts = [
    cfg.StrOpt(
        "backend_url",
        secret=True,
        help="tooz URL of the coordination backend of several engines: one quota "
        "scheduler at a time, one engine per project sync. Examples: "
        "postgresql://kingbird@db-host:5432/kingbird, redis://redis-host:6379. Empty: "
        "in-process coordination, right for one engine (the embedded mode); several "
        "engines then still never run one job entry or project sync twice at once "
        "(database leases) but each one schedules the periodic sync.",
    ),
]


SERVICE_CREDENTIALS_GROUP = "service_credentials"


def database_url(conf: cfg.ConfigOpts) -> str:
    """The database URL in force: the configured one, or the embedded SQLite file."""
    if conf.database.connection:
        return conf.database.connection
    return "sqlite:///" + os.path.join(conf.state_dir, "kingbird.sqlite")
