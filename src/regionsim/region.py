"""One simulated region: its services' state and its injected faults.

All services of a region share one re-entrant lock. Requests in a region are
short dictionary operations, so one lock keeps cross-service steps (a server
booted from a Cinder volume made from a Glance image) consistent at no real cost
to throughput; regions never share a lock.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Faults injected into a region through the control API.

    ``latency`` seconds are added before each request; a fraction ``error_rate``
    of requests get a 500; ``timeout`` seconds makes every request hang that long
    and then drop the connection unanswered (a client sees its own timeout).
    """

    latency: float = 0.0
    error_rate: float = 0.0
    timeout: float = 0.0

    def as_dict(self) -> dict:
        return {"latency": self.latency, "error_rate": self.error_rate, "timeout": self.timeout}


@dataclass
class Region:
    """The whole simulated state of one region.

    ``services`` maps a service name (``nova``, ``neutron``, ``cinder``, ``glance``)
    to that service's state object; services reach each other through it.
    """

    name: str
    port: int = 0
    keystone_url: str = ""
    lock: threading.RLock = field(default_factory=threading.RLock)
    faults: Faults = field(default_factory=Faults)
    up: bool = True
    services: dict[str, object] = field(default_factory=dict)
    # Every region of the same simulator (this one included), by name: the
    # storage backends one region's Cinder replicates volumes to.
    peers: dict[str, Region] = field(default_factory=dict, repr=False, compare=False)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_id(self) -> str:
        """A fresh UUID, as the real services use for most resources."""
        return str(uuid.uuid4())

    def next_int(self) -> int:
        """A region-wide increasing integer (ids of rules, attachments...)."""
        return next(self._counter)

    def service(self, name: str):
        return self.services[name]
