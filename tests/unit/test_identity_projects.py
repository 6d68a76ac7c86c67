"""Keystone's project list read in pages (``links.next``, as Keystone's
``wrap_collection`` writes it), bounded."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import requests

from kingbird.core.retry import RetryPolicy
from kingbird.regions import identity

ONCE = RetryPolicy(retries=0)
BASE = "http://keystone.test:5000/v3"


class PagedKeystone:
    """``session.get`` of a Keystone holding ``projects``, ``page`` a page."""

    def __init__(self, projects, page, loop=False, truncate_only=False):
        self.projects, self.page = projects, page
        self.loop, self.truncate_only = loop, truncate_only
        self.paths: list[str] = []

    def get(self, path, endpoint_filter, raise_exc):
        assert endpoint_filter["service_type"] == "identity" and raise_exc is False
        self.paths.append(path)
        query = parse_qs(urlsplit(path).query)
        start = 0
        if "marker" in query:
            start = [p["id"] for p in self.projects].index(query["marker"][0]) + 1
        refs = self.projects[start:start + self.page]
        body = {"projects": refs, "links": {"self": f"{BASE}/projects", "previous": None,
                                           "next": None}}
        if start + self.page < len(self.projects):
            body["truncated"] = True
            if not self.truncate_only:
                marker = self.projects[0 if self.loop else start + self.page - 1]["id"]
                body["links"]["next"] = (f"{BASE}/projects?enabled=true&marker={marker}"
                                         f"&limit={self.page}")
        answer = requests.Response()
        answer.status_code = 200
        answer._content = json.dumps(body).encode()
        answer.headers["content-type"] = "application/json"
        return answer


def projects(count):
    return [{"id": f"p{n:03d}", "name": f"n{n}"} for n in range(count)]


def test_every_page_is_read():
    keystone = PagedKeystone(projects(7), page=3)
    assert identity.list_project_ids(keystone, policy=ONCE) == [f"p{n:03d}" for n in range(7)]
    assert keystone.paths == ["/projects?enabled=true", "/projects?enabled=true&marker=p002",
                              "/projects?enabled=true&marker=p005"]


def test_the_pages_read_are_bounded_and_a_loop_stops(caplog):
    caplog.set_level(logging.WARNING)
    keystone = PagedKeystone(projects(50), page=2)
    assert len(identity.list_project_ids(keystone, policy=ONCE, max_pages=4)) == 8
    assert len(keystone.paths) == 4 and "after 4 pages" in caplog.text
    looping = PagedKeystone(projects(10), page=2, loop=True)
    assert identity.list_project_ids(looping, policy=ONCE) == ["p000", "p001", "p002"]
    assert len(looping.paths) == 2 and "twice" in caplog.text


def test_a_truncated_list_without_a_next_page_is_reported(caplog):
    caplog.set_level(logging.WARNING)
    keystone = PagedKeystone(projects(5), page=2, truncate_only=True)
    assert identity.list_project_ids(keystone, policy=ONCE) == ["p000", "p001"]
    assert "list_limit" in caplog.text
