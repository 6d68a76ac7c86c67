"""Small HTTP helpers for talking to the Kingbird API in functional tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests


class KingbirdHTTP:
    """Raw HTTP to the Kingbird API: the tests check status codes and bodies as
    curl would see them."""

    def __init__(self, root: str):
        self.root = root.rstrip("/")

    def call(self, method: str, path: str, token: str | None = None, *, json=None,
             data=None, headers: dict | None = None) -> requests.Response:
        all_headers = {"Content-Type": "application/json"}
        if token:
            all_headers["X-Auth-Token"] = token
        all_headers.update(headers or {})
        return requests.request(method, self.root + path, json=json, data=data,
                                headers=all_headers, timeout=60)


def wait_for(predicate: Callable[[], object], timeout: float = 30, interval: float = 0.3,
             what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
