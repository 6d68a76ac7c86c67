"""The client's copies of the wire vocabulary are the server's.

``kingbird.client`` ships without the server, so it keeps its own copy of the words
both sides use; these tests fail the day one side changes alone.
"""

from __future__ import annotations

import pytest

from kingbird.client import RESOURCE_TYPES, vocabulary
from kingbird.client import exceptions as client_exceptions
from kingbird.core import exceptions as server_exceptions
from kingbird.dr.models import DR_METHODS, OPERATION_STATUSES
from kingbird.quota.keys import QUOTA_KEYS
from kingbird.sync.models import RESOURCE_TYPES as SERVER_RESOURCE_TYPES

# Raised inside the server only: a region's failure reaches a client as an API status.
SERVER_ONLY = {server_exceptions.RegionError}


def test_quota_keys_are_the_servers_in_the_same_order():
    assert vocabulary.QUOTA_KEYS == QUOTA_KEYS


def test_sync_resource_types_are_the_servers():
    assert vocabulary.SYNC_RESOURCE_TYPES == tuple(SERVER_RESOURCE_TYPES)
    assert RESOURCE_TYPES == vocabulary.SYNC_RESOURCE_TYPES


def test_dr_methods_are_the_servers():
    assert vocabulary.DR_METHODS == DR_METHODS


def test_the_finished_statuses_of_a_dr_operation_are_statuses_the_server_writes():
    assert set(vocabulary.DR_OPERATION_FINISHED) < set(OPERATION_STATUSES)


def _server_error_classes() -> list[type[server_exceptions.KingbirdError]]:
    found = [server_exceptions.KingbirdError]
    for cls in found:
        found += [sub for sub in cls.__subclasses__()
                  if sub.__module__ == server_exceptions.__name__ and sub not in SERVER_ONLY]
    return found


@pytest.mark.parametrize("server_cls", _server_error_classes(), ids=lambda cls: cls.__name__)
def test_each_server_error_has_a_client_twin_with_its_code_and_title(server_cls):
    client_cls = getattr(client_exceptions, server_cls.__name__, None)
    assert client_cls is not None, f"kingbird.client.exceptions lacks {server_cls.__name__}"
    assert (client_cls.code, client_cls.title) == (server_cls.code, server_cls.title)
    assert [base.__name__ for base in client_cls.__bases__] == [
        base.__name__ for base in server_cls.__bases__]


def test_every_status_the_server_raises_maps_to_its_client_class():
    server_codes = {cls.code for cls in _server_error_classes()
                    if cls is not server_exceptions.KingbirdError}
    assert {cls.code for cls in client_exceptions.STATUS_CLASSES} == server_codes
