"""Names and ports of simulated regions: what a launcher needs before any region runs."""

from __future__ import annotations

import socket

DEFAULT_REGIONS = ("RegionOne", "RegionTwo", "RegionThree")


def region_names(count: int) -> list[str]:
    """RegionOne, RegionTwo, RegionThree, then Region4, Region5..."""
    return [DEFAULT_REGIONS[i] if i < len(DEFAULT_REGIONS) else f"Region{i + 1}"
            for i in range(count)]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
