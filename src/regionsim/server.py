"""Serves every simulated region on its own loopback port, in one process.

Taking a region down closes its listening socket, so clients get "connection
refused" exactly as when a real region's API endpoint is gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cheroot import wsgi
from flask import Flask

from regionsim import control
from regionsim.app import build_region_app
from regionsim.middleware import with_auth
from regionsim.region import Region
from regionsim.topology import free_port

LOG = logging.getLogger(__name__)


@dataclass
class RegionSpec:
    """What the simulator needs to serve one region."""

    name: str
    port: int
    keystone_url: str


class _Listener:
    """One cheroot server on one port, runnable in a thread, stoppable and restartable."""

    def __init__(self, host: str, port: int, app: Callable, threads: int, name: str):
        self.host, self.port, self.app, self.threads, self.name = host, port, app, threads, name
        self.server: wsgi.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        server = wsgi.Server((self.host, self.port), self.app, numthreads=self.threads,
                             server_name=self.name)
        server.prepare()
        self.server = server
        self.thread = threading.Thread(target=server.serve, name=self.name, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.thread.join(timeout=10)
            self.server = self.thread = None


class Simulator:
    """All simulated regions of one process plus the control port."""

    def __init__(self, specs: list[RegionSpec], auth_conf: dict[str, str],
                 host: str = "127.0.0.1", control_port: int | None = None,
                 threads: int = 16):
        self.host = host
        self.auth_conf = auth_conf
        self.regions: dict[str, Region] = {}
        self._listeners: dict[str, _Listener] = {}
        self._stopping: dict[str, threading.Thread] = {}
        for spec in specs:
            region = Region(name=spec.name, port=spec.port, keystone_url=spec.keystone_url,
                            peers=self.regions)
            self.regions[spec.name] = region
            # region_name: auth_token finds the identity endpoint to validate
            # tokens at in the catalog; without it, any region's (maybe across a WAN).
            region_auth = dict(auth_conf, www_authenticate_uri=spec.keystone_url,
                               auth_url=spec.keystone_url, region_name=spec.name)
            app = build_region_app(region, region_auth, simulator=self)
            self._listeners[spec.name] = _Listener(host, spec.port, app, threads,
                                                   f"regionsim-{spec.name}")
        self.control_port = control_port if control_port is not None else free_port(host)
        control_app = Flask("regionsim-control")
        control_app.config["SIMULATOR"] = self
        control_app.register_blueprint(control.bp)
        self._control = _Listener(host, self.control_port,
                                  with_auth(control_app.wsgi_app, auth_conf, []), 4,
                                  "regionsim-control")

    def base_url(self, region: str) -> str:
        return f"http://{self.host}:{self.regions[region].port}"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.control_port}/_sim"

    def start(self) -> None:
        self._control.start()
        for listener in self._listeners.values():
            listener.start()

    def stop(self) -> None:
        for listener in self._listeners.values():
            listener.stop()
        self._control.stop()

    def take_down(self, name: str) -> None:
        """Close the region's port; its state is kept for when it comes back."""
        region = self.regions[name]
        if region.up:
            region.up = False
            # Stopping from a request thread of the same server would deadlock.
            stopper = threading.Thread(target=self._listeners[name].stop, daemon=True)
            self._stopping[name] = stopper
            stopper.start()

    def bring_up(self, name: str) -> None:
        region = self.regions[name]
        if not region.up:
            stopper = self._stopping.pop(name, None)
            if stopper is not None:
                stopper.join(timeout=15)
            listener = self._listeners[name]
            listener.stop()
            listener.start()
            region.up = True
