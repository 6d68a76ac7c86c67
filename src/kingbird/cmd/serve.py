"""Serving the API with cheroot, shared by ``kingbird-api`` and the demo."""

from __future__ import annotations

import threading

from cheroot import wsgi


class ApiServer:
    """A cheroot server running in a background thread."""

    def __init__(self, app, host: str, port: int, threads: int):
        self.server = wsgi.Server((host, port), app, numthreads=threads,
                                  server_name="kingbird-api")
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.server.prepare()  # binds now, so a busy port fails here, loudly
        self._thread = threading.Thread(target=self.server.serve, name="kingbird-api",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
