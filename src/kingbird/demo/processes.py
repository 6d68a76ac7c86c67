"""Stopping the child processes the demo and the test launchers start."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen | None, timeout: float = 10.0) -> None:
    """Stop ``process`` if it runs: SIGTERM, then SIGKILL after ``timeout`` seconds;
    return once it has exited."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
