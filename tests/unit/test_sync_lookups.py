"""The live lookups of a new sync job's resources: once each, capped, in parallel,
within a deadline (kingbird.sync.lookups). Fake copiers, a real fan-out; no sockets."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from kingbird.core import exceptions
from kingbird.regions.copying import Scope
from kingbird.regions.fanout import FanOut
from kingbird.sync import lookups
from kingbird.sync import validation as sv
from kingbird.sync.validation import Located

SCOPE = Scope(project_id="p1", user_id="u1")


class FakeCopier:
    """Answers ``locate`` from ``held`` (region → names), counting every question."""

    def __init__(self, held: dict[str, set[str]], answer=None):
        self.held = held
        self.answer = answer  # region → callable run instead (to hang or fail)
        self.asked: Counter = Counter()
        self.lock = threading.Lock()

    def locate(self, region: str, scope: Scope, resource: str) -> list[dict]:
        with self.lock:
            self.asked[(region, resource)] += 1
        if self.answer and region in self.answer:
            return self.answer[region](resource)
        return [{"id": f"{region}-{resource}", "name": resource}] \
            if resource in self.held.get(region, ()) else []


@pytest.fixture
def fanout():
    pool = FanOut(8)
    yield pool
    pool.shutdown()


def item(resources, source="RegionOne", target="RegionTwo", resource_type="keypair"):
    return {"resources": resources, "resource_type": resource_type, "source": source,
            "target": target}


def specs_of(*items):
    return sv.sync_request({"resource_set": {"Sync": list(items)}})


def test_a_resource_named_in_several_sets_is_looked_up_once(fanout):
    copier = FakeCopier({"RegionOne": {"k1", "k2"}})
    specs = specs_of(item(["k1", "k2"]), item(["k2", "k1"], target="RegionThree"))
    located = lookups.locate(specs, SCOPE, {"keypair": copier}, fanout, deadline=5)
    assert copier.asked == {("RegionOne", "k1"): 1, ("RegionOne", "k2"): 1}
    assert located == {(i, r): Located("RegionOne", f"RegionOne-{r}")
                       for i in (0, 1) for r in ("k1", "k2")}


def test_the_same_name_of_another_type_is_a_separate_lookup():
    specs = specs_of(item(["x"]), item(["x"], resource_type="image"))
    assert [(w.resource_type, w.resource) for w in lookups.lookups(specs)] == [
        ("keypair", "x"), ("image", "x")]


def test_a_request_over_the_cap_is_refused_before_any_lookup(fanout):
    copier = FakeCopier({})
    names = [f"k{i}" for i in range(lookups.MAX_LOOKUPS + 1)]
    with pytest.raises(exceptions.BadRequest, match=f"at most {lookups.MAX_LOOKUPS} "):
        lookups.locate(specs_of(item(names)), SCOPE, {"keypair": copier}, fanout, 5)
    assert not copier.asked


def test_the_cap_counts_each_source_and_not_repeated_names():
    per_source = lookups.MAX_LOOKUPS // 2
    names = [f"k{i}" for i in range(per_source)]
    assert len(lookups.lookups(specs_of(item(names), item(names)))) == per_source
    two_sources = item(names + ["one-more"], source=["RegionOne", "RegionThree"])
    with pytest.raises(exceptions.BadRequest, match=f"needs {2 * per_source + 2}"):
        lookups.lookups(specs_of(two_sources))


def test_a_resource_comes_from_the_first_source_that_has_it(fanout):
    copier = FakeCopier({"RegionOne": {"both"}, "RegionThree": {"both", "only3"}})
    specs = specs_of(item(["both", "only3"], source=["RegionOne", "RegionThree"]))
    located = lookups.locate(specs, SCOPE, {"keypair": copier}, fanout, 5)
    assert located[(0, "both")].source == "RegionOne"
    assert located[(0, "only3")].source == "RegionThree"


def test_a_missing_resource_is_a_404_naming_it_and_its_sources(fanout):
    copier = FakeCopier({"RegionOne": {"k1"}})
    specs = specs_of(item(["k1", "nokey"], source=["RegionOne", "RegionThree"]))
    with pytest.raises(exceptions.NotFound,
                       match="keypair 'nokey' not found in RegionOne or RegionThree"):
        lookups.locate(specs, SCOPE, {"keypair": copier}, fanout, 5)


def test_an_ambiguous_name_is_a_conflict(fanout):
    copier = FakeCopier({}, answer={"RegionOne": lambda r: [{"id": "a"}, {"id": "b"}]})
    with pytest.raises(exceptions.Conflict, match="2 images are named 'img' in RegionOne"):
        lookups.locate(specs_of(item(["img"], resource_type="image")), SCOPE,
                       {"image": copier}, fanout, 5)


def test_a_hung_region_is_a_503_once_the_deadline_passes(fanout):
    release = threading.Event()

    def hang(resource):
        release.wait(10)
        return []

    copier = FakeCopier({}, answer={"RegionOne": hang})
    started = time.monotonic()
    try:
        with pytest.raises(exceptions.ServiceUnavailable, match="'k1' exists in RegionOne"):
            lookups.locate(specs_of(item(["k1"])), SCOPE, {"keypair": copier}, fanout, 0.2)
        assert time.monotonic() - started < 2
    finally:
        release.set()


def test_a_region_error_keeps_its_own_status(fanout):
    def refuse(resource):
        raise exceptions.RegionError("RegionOne", "HTTP 500: boom")

    copier = FakeCopier({}, answer={"RegionOne": refuse})
    with pytest.raises(exceptions.RegionError, match="boom") as caught:
        lookups.locate(specs_of(item(["k1"])), SCOPE, {"keypair": copier}, fanout, 5)
    assert caught.value.code == 502


def test_a_failing_source_that_was_not_needed_does_not_fail_the_request(fanout):
    def refuse(resource):
        raise exceptions.RegionError("RegionThree", "HTTP 500: boom")

    copier = FakeCopier({"RegionOne": {"k1"}}, answer={"RegionThree": refuse})
    specs = specs_of(item(["k1"], source=["RegionOne", "RegionThree"]))
    located = lookups.locate(specs, SCOPE, {"keypair": copier}, fanout, 5)
    assert located[(0, "k1")].source == "RegionOne"
