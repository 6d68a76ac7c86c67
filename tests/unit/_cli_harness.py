"""The ``kingbird`` program in-process over a fake transport, for the CLI tests.

A test module binds the fixtures under their names (``run = _cli_harness.run``
and so on; assigned rather than imported so that linters do not read the test
arguments as redefinitions): ``run(*argv)`` runs ``kingbird ARGV`` against the
``transport`` the test scripts and returns (exit status, stdout, stderr), and
``restore_logging`` undoes the console handlers cliff adds on each run.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from _fake_kingbird import ENDPOINT, PROJECT, FakeTransport, session_with

from kingbird.cli.main import KingbirdApp
from kingbird.client import Client


@pytest.fixture
def transport():
    return FakeTransport()


@pytest.fixture(autouse=True)
def restore_logging():
    """cliff adds a console handler per run; drop them so runs do not pile up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def run(transport, capsys):
    """Run ``kingbird ARGS``; return (exit status, stdout, stderr)."""

    class App(KingbirdApp):
        def initialize_app(self, argv):
            self.client_manager = SimpleNamespace(kingbird=Client(
                session_with(transport), endpoint=ENDPOINT, project_id=PROJECT))

    def _run(*argv):
        try:
            status = App().run(list(argv))
        except SystemExit as exc:  # argparse's usage errors, as the real program exits
            status = exc.code
        out, err = capsys.readouterr()
        return status, out, err

    return _run
