"""Prometheus metrics of the multisite identity: key sets, nodes, probes, replication."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from oslo_config import cfg
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.orm import Session

from kingbird.db.base import utcnow
from kingbird.identity import sites
from kingbird.identity import store as db

LOG = logging.getLogger(__name__)


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels or [])


class IdentityCollector:
    """Reads Kingbird's database and the identity databases at each scrape."""

    def __init__(self, conf: cfg.ConfigOpts,
                 db_transaction: Callable[[], AbstractContextManager[Session]]):
        self.conf = conf
        self.db = db_transaction

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        try:
            snap = sites.snapshot(self.conf, self.db, now)
            with self.db() as session:
                keys = db.list_keys(session)
                pending = db.pending_rotation(session)
                nodes = {n["name"]: n for n in db.list_nodes(session, registered_only=True)}
        except Exception:  # a scrape must answer; the failure shows as up=0
            LOG.exception("identity metrics unavailable")
            up = _gauge("kingbird_identity_metrics_up", "Whether identity metrics were read.")
            up.add_metric([], 0)
            yield up
            return
        up = _gauge("kingbird_identity_metrics_up", "Whether identity metrics were read.")
        up.add_metric([], 1)
        yield up
        version = _gauge("kingbird_fernet_keyset_version", "Current Fernet key set version.")
        version.add_metric([], snap["key_set_version"])
        yield version
        by_state = _gauge("kingbird_fernet_keys", "Fernet keys held, by state.", ["state"])
        for state in ("staged", "primary", "secondary"):
            by_state.add_metric([state], sum(1 for k in keys if k["state"] == state))
        yield by_state
        rotating = _gauge("kingbird_fernet_rotation_pending",
                          "1 while a staged key waits for every node before promotion.")
        rotating.add_metric([], 1 if pending else 0)
        yield rotating
        labels = ["node", "region"]
        held = _gauge("kingbird_fernet_node_keyset_version",
                      "Key set version a Keystone node holds (-1: none).", labels)
        healthy = _gauge("kingbird_fernet_node_healthy",
                         "1 when the node's agent reports in time, without error, holding "
                         "the current version.", labels)
        silence = _gauge("kingbird_fernet_node_seconds_since_contact",
                         "Seconds since the node's agent last reported.", labels)
        probe_ok = _gauge("kingbird_identity_probe_ok",
                          "1 when the node's last probe validated a token.", labels)
        probe_latency = _gauge("kingbird_identity_probe_latency_seconds",
                               "Token validation time of the node's last probe.", labels)
        validating = _gauge("kingbird_identity_region_validating",
                            "1 when a fresh probe in the region validated a token.",
                            ["region"])
        lag_bytes = _gauge("kingbird_identity_replication_lag_bytes",
                           "WAL bytes the region's identity database replica has not "
                           "replayed (primary's view).", ["region"])
        lag_seconds = _gauge("kingbird_identity_replication_lag_seconds",
                             "Replay lag of the region's replica (primary's view).",
                             ["region"])
        streaming = _gauge("kingbird_identity_replication_streaming",
                           "1 while the region's replica streams from the primary.",
                           ["region"])
        for region, entry in snap["regions"].items():
            validating.add_metric([region], 1 if entry["validating"] else 0)
            for node in entry["nodes"]:
                row = nodes.get(node["name"], {})
                key = [node["name"], region]
                held.add_metric(key, -1 if node["version"] is None else node["version"])
                healthy.add_metric(key, 1 if node["healthy"] else 0)
                contact = row.get("last_contact_at")
                if contact is not None:
                    silence.add_metric(key, max(0.0, (now - contact).total_seconds()))
                probe = row.get("probe") or {}
                if "ok" in probe:
                    probe_ok.add_metric(key, 1 if probe["ok"] else 0)
                if probe.get("latency_ms") is not None:
                    probe_latency.add_metric(key, probe["latency_ms"] / 1000.0)
            rep = entry["replication"]
            if rep is None:
                continue
            if rep.get("lag_bytes") is not None:
                lag_bytes.add_metric([region], rep["lag_bytes"])
            if rep.get("replay_lag_seconds") is not None:
                lag_seconds.add_metric([region], rep["replay_lag_seconds"])
            if rep["role"] == "replica":
                streaming.add_metric([region], 1 if rep["streaming"] else 0)
        yield from (held, healthy, silence, probe_ok, probe_latency, validating, lag_bytes,
                    lag_seconds, streaming)
