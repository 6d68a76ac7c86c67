"""Repository functions on SQLite, with the schema built by the migrations."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kingbird.core import exceptions
from kingbird.db import leases, migration
from kingbird.db.session import create_engine, make_sessionmaker, transaction
from kingbird.models import Base
from kingbird.quota import repository as quota_db
from kingbird.quota import schedule_repository as schedule_db
from kingbird.quota import status_repository as status_db
from kingbird.quota.models import ProjectSyncStatus
from kingbird.sync import repository as jobs_db

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def later(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def claim_sync(s, project_id: str, owner: str, now: dt.datetime) -> bool:
    """Take the lease of a project's sync, as an engine's claim does."""
    schedule_db.schedule_projects(s, [project_id], now=now)
    return leases.claim(s, ProjectSyncStatus.__table__, project_id, owner, 30, now=now)


def entries(n: int, resource_type: str = "keypair") -> list[dict]:
    return [
        {"resource": f"key{i}", "resource_type": resource_type, "source_region": "RegionOne",
         "target_region": "RegionTwo", "force": i % 2 == 0}
        for i in range(n)
    ]


# --- migrations --------------------------------------------------------------------


def test_upgrade_brings_an_empty_database_to_head(tmp_path):
    url = f"sqlite:///{tmp_path}/new/kingbird.sqlite"
    assert migration.current_version(url) is None
    migration.upgrade(url)
    assert migration.current_version(url) == migration.head_revision()


def test_migrations_match_the_models(db_url):
    engine = sa.create_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(db_url):
    migration.downgrade(db_url, "base")
    engine = sa.create_engine(db_url)
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    migration.upgrade(db_url)
    assert {"quotas", "sync_job_entries"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_connections_use_wal_and_a_busy_timeout(factory):
    with transaction(factory) as s:
        assert s.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(sa.text("PRAGMA busy_timeout")).scalar() == 30000
        assert s.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_transaction_rolls_back_on_error(factory):
    with pytest.raises(RuntimeError), transaction(factory) as s:
        quota_db.set_project_limits(s, "p1", {"cores": 5})
        raise RuntimeError("boom")
    with transaction(factory) as s:
        assert quota_db.get_project_limits(s, "p1") == {}


# --- quotas ------------------------------------------------------------------------


def test_project_limits_are_upserted_per_key(factory):
    with transaction(factory) as s:
        quota_db.set_project_limits(s, "p1", {"cores": 10, "ram": 1024})
    with transaction(factory) as s:
        quota_db.set_project_limits(s, "p1", {"cores": 20, "instances": -1})
        quota_db.set_project_limits(s, "p2", {"cores": 1})
    with transaction(factory) as s:
        assert quota_db.get_project_limits(s, "p1") == {"cores": 20, "ram": 1024, "instances": -1}
        assert quota_db.get_project_limits(s, "p2") == {"cores": 1}
        assert quota_db.get_project_limits(s, "p3") == {}
        assert quota_db.projects_with_limits(s) == ["p1", "p2"]


def test_delete_project_limits_counts_deleted_keys(factory):
    with transaction(factory) as s:
        quota_db.set_project_limits(s, "p1", {"cores": 10, "ram": 1024, "instances": 3})
        quota_db.set_project_limits(s, "p2", {"cores": 1})
        assert quota_db.delete_project_limits(s, "p1", ["cores", "volumes"]) == 1
        assert quota_db.get_project_limits(s, "p1") == {"ram": 1024, "instances": 3}
        assert quota_db.delete_project_limits(s, "p1", []) == 0
        assert quota_db.delete_project_limits(s, "p1") == 2
        assert quota_db.delete_project_limits(s, "p1") == 0
        assert quota_db.projects_with_limits(s) == ["p2"]


def test_quota_class_limits_are_set_read_and_deleted(factory):
    with transaction(factory) as s:
        quota_db.set_class_limits(s, "default", {"cores": 100, "network": 50})
        quota_db.set_class_limits(s, "default", {"cores": 120})
        quota_db.set_class_limits(s, "gold", {"cores": 1000})
        assert quota_db.get_class_limits(s, "default") == {"cores": 120, "network": 50}
        assert quota_db.delete_class(s, "default") == 2
        assert quota_db.get_class_limits(s, "default") == {}
        assert quota_db.delete_class(s, "default") == 0
        assert quota_db.get_class_limits(s, "gold") == {"cores": 1000}


# --- project sync status -----------------------------------------------------------


def test_sync_status_is_none_for_a_project_never_seen(factory):
    with transaction(factory) as s:
        assert status_db.get_sync_status(s, "p1") is None


def test_a_requested_sync_is_recorded_with_its_time(factory):
    with transaction(factory) as s:
        status_db.request_project_sync(s, "p2", now=later(1))
        status_db.request_project_sync(s, "p1", now=later(2))
        assert status_db.get_sync_status(s, "p2")["requested_at"] == later(1)
        status = status_db.get_sync_status(s, "p1")
    assert status["requested_at"] == later(2)
    assert status["outcome"] is None and status["failed_regions"] == []


def test_project_sync_lease_is_exclusive_until_it_expires(factory):
    with transaction(factory) as s:
        assert claim_sync(s, "p1", "engine-a", now=T0)
    with transaction(factory) as s:
        assert not claim_sync(s, "p1", "engine-b", now=later(29))
        assert not claim_sync(s, "p1", "engine-a", now=later(29))
        assert status_db.renew_project_leases(s, ["p1"], "engine-a", 30, now=later(29)) == ["p1"]
        assert status_db.renew_project_leases(s, ["p1"], "engine-b", 30, now=later(29)) == []
    with transaction(factory) as s:
        assert not claim_sync(s, "p1", "engine-b", now=later(58))
        assert claim_sync(s, "p1", "engine-b", now=later(59))
        status = status_db.get_sync_status(s, "p1")
    assert status["lease_owner"] == "engine-b"
    assert status["lease_expires_at"] == later(89)
    assert status["lease_expires_at"].tzinfo is not None


def test_record_sync_result_releases_lease_and_clears_request(factory):
    with transaction(factory) as s:
        status_db.request_project_sync(s, "p1", now=T0)
        assert claim_sync(s, "p1", "engine-a", now=later(1))
        status_db.record_sync_result(s, "p1", "FAILURE", ["RegionTwo"], "RegionTwo: timeout",
                                     now=later(5))
        status = status_db.get_sync_status(s, "p1")
        assert claim_sync(s, "p1", "engine-b", now=later(6))
    assert status == {
        "project_id": "p1", "last_sync_at": later(5), "outcome": "FAILURE",
        "failed_regions": ["RegionTwo"], "reason": "RegionTwo: timeout",
        "requested_at": None, "contended": False, "lease_owner": None,
        "lease_expires_at": None,
    }


def test_record_sync_result_keeps_a_request_made_during_the_sync(factory):
    with transaction(factory) as s:
        assert claim_sync(s, "p1", "engine-a", now=T0)
        status_db.request_project_sync(s, "p1", now=later(2))
        status_db.record_sync_result(s, "p1", "SUCCESS", [], None, now=later(5),
                                     owner="engine-a", started_at=T0)
        status = status_db.get_sync_status(s, "p1")
    assert status["requested_at"] == later(2)
    assert status["lease_owner"] is None


def test_record_sync_result_leaves_a_lease_taken_over_by_another_engine(factory):
    with transaction(factory) as s:
        assert claim_sync(s, "p1", "engine-a", now=T0)
        assert claim_sync(s, "p1", "engine-b", now=later(40))
        status_db.record_sync_result(s, "p1", "SUCCESS", [], None, now=later(41), owner="engine-a")
        status = status_db.get_sync_status(s, "p1")
    assert status["outcome"] == "SUCCESS"
    assert status["lease_owner"] == "engine-b"


def test_record_sync_result_rejects_an_unknown_outcome(factory):
    with pytest.raises(ValueError), transaction(factory) as s:
        status_db.record_sync_result(s, "p1", "MAYBE", [], None)


# --- jobs --------------------------------------------------------------------------


def test_create_job_queues_one_entry_per_target(factory):
    with transaction(factory) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(3), request_id="req-1", now=T0)
    with transaction(factory) as s:
        assert jobs_db.get_job(s, "p1", job["id"]) == job
        rows = jobs_db.get_job_entries(s, job["id"])
    assert job["status"] == "IN_PROGRESS" and job["request_id"] == "req-1"
    assert job["created_at"] == T0 and len(job["id"]) == 36
    assert [e["resource"] for e in rows] == ["key0", "key1", "key2"]
    assert [e["force"] for e in rows] == [True, False, True]
    assert {e["status"] for e in rows} == {"QUEUED"}
    assert {e["attempts"] for e in rows} == {0}
    assert rows[0]["target_region"] == "RegionTwo" and rows[0]["lease_owner"] is None


def test_create_job_rejects_no_entries_and_unknown_types(factory):
    with transaction(factory) as s:
        with pytest.raises(ValueError):
            jobs_db.create_job(s, "p1", "u1", [])
        with pytest.raises(ValueError):
            jobs_db.create_job(s, "p1", "u1", entries(1, resource_type="volume"))


def test_jobs_are_visible_only_to_their_project(factory):
    with transaction(factory) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(1))
        other = jobs_db.create_job(s, "p2", "u2", entries(1))
        assert jobs_db.get_job(s, "p2", job["id"]) is None
        assert [j["id"] for j in jobs_db.list_jobs(s, "p1")] == [job["id"]]
        assert [j["id"] for j in jobs_db.list_jobs(s, "p2")] == [other["id"]]
        assert jobs_db.delete_job(s, "p2", job["id"]) is False
        assert jobs_db.get_job(s, "p1", job["id"]) is not None


def test_list_jobs_active_only_hides_finished_jobs(factory):
    with transaction(factory) as s:
        done = jobs_db.create_job(s, "p1", "u1", entries(1), now=T0)
        active = jobs_db.create_job(s, "p1", "u1", entries(1), now=later(1))
        (entry,) = jobs_db.claim_entries(s, "engine-a", 30, limit=1, now=later(2))
        assert jobs_db.finish_entry(s, entry["id"], "engine-a", "SUCCESS", now=later(3))
        assert [j["id"] for j in jobs_db.list_jobs(s, "p1")] == [done["id"], active["id"]]
        assert [j["id"] for j in jobs_db.list_jobs(s, "p1", active_only=True)] == [active["id"]]


def test_delete_job_refuses_a_job_in_progress(factory):
    with transaction(factory) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(1))
        with pytest.raises(exceptions.NotAcceptable):
            jobs_db.delete_job(s, "p1", job["id"])
        assert jobs_db.delete_job(s, "p1", "no-such-job") is False


def test_delete_job_removes_a_finished_job_and_its_entries(factory):
    with transaction(factory) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(2))
        for entry in jobs_db.claim_entries(s, "engine-a", 30, limit=5):
            jobs_db.finish_entry(s, entry["id"], "engine-a", "FAILURE", error="not found")
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "FAILURE"
        assert jobs_db.delete_job(s, "p1", job["id"]) is True
        assert jobs_db.get_job(s, "p1", job["id"]) is None
        assert jobs_db.get_job_entries(s, job["id"]) == []


# --- claims and leases -------------------------------------------------------------


def test_claim_entries_takes_queued_entries_oldest_first_up_to_the_limit(factory):
    with transaction(factory) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(5))
    with transaction(factory) as s:
        first = jobs_db.claim_entries(s, "engine-a", 30, limit=3, now=T0)
    with transaction(factory) as s:
        second = jobs_db.claim_entries(s, "engine-b", 30, limit=3, now=T0)
        assert jobs_db.claim_entries(s, "engine-c", 30, limit=3, now=T0) == []
    ids = [e["id"] for e in db_entries(factory, job["id"])]
    assert [e["id"] for e in first] == ids[:3]
    assert [e["id"] for e in second] == ids[3:]
    assert {e["lease_owner"] for e in first} == {"engine-a"}
    assert {e["status"] for e in first + second} == {"IN_PROGRESS"}
    assert {e["attempts"] for e in first} == {1}
    assert first[0]["lease_expires_at"] == later(30)


def db_entries(factory, job_id):
    with transaction(factory) as s:
        return jobs_db.get_job_entries(s, job_id)


def test_expired_leases_are_claimed_again_and_the_old_owner_loses_the_entry(factory):
    with transaction(factory) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(1))
        (entry,) = jobs_db.claim_entries(s, "engine-a", 30, limit=1, now=T0)
    with transaction(factory) as s:
        assert jobs_db.claim_entries(s, "engine-b", 30, limit=1, now=later(29)) == []
        (again,) = jobs_db.claim_entries(s, "engine-b", 30, limit=1, now=later(30))
    assert again["id"] == entry["id"]
    assert again["attempts"] == 2 and again["lease_owner"] == "engine-b"
    with transaction(factory) as s:
        assert jobs_db.renew_lease(s, [entry["id"]], "engine-a", 30, now=later(31)) == []
        assert not jobs_db.finish_entry(s, entry["id"], "engine-a", "SUCCESS", now=later(31))
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "IN_PROGRESS"
        assert jobs_db.finish_entry(s, entry["id"], "engine-b", "SUCCESS", now=later(32))
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "SUCCESS"


def test_renew_lease_extends_only_the_owners_live_entries(factory):
    with transaction(factory) as s:
        jobs_db.create_job(s, "p1", "u1", entries(3))
        mine = [e["id"] for e in jobs_db.claim_entries(s, "engine-a", 30, limit=2, now=T0)]
        theirs = [e["id"] for e in jobs_db.claim_entries(s, "engine-b", 30, limit=1, now=T0)]
        assert jobs_db.renew_lease(s, mine + theirs, "engine-a", 30, now=later(20)) == mine
        assert jobs_db.renew_lease(s, [], "engine-a", 30) == []
        # At the first expiry only engine-b's entry, not renewed, can be taken over.
        taken = jobs_db.claim_entries(s, "engine-c", 30, limit=5, now=later(31))
    assert [e["id"] for e in taken] == theirs


def test_finished_entries_are_never_claimed_again(factory):
    with transaction(factory) as s:
        jobs_db.create_job(s, "p1", "u1", entries(1))
        (entry,) = jobs_db.claim_entries(s, "engine-a", 30, limit=1, now=T0)
        assert jobs_db.finish_entry(s, entry["id"], "engine-a", "FAILURE", "boom", now=later(1))
        assert jobs_db.claim_entries(s, "engine-b", 30, limit=1, now=later(3600)) == []
        assert not jobs_db.finish_entry(s, entry["id"], "engine-a", "SUCCESS")
        (row,) = jobs_db.get_job_entries(s, entry["job_id"])
    assert row["status"] == "FAILURE" and row["error"] == "boom"


def test_finish_entry_rejects_a_non_final_status(factory):
    with transaction(factory) as s:
        with pytest.raises(ValueError):
            jobs_db.finish_entry(s, 1, "engine-a", "QUEUED")


def test_job_status_follows_its_entries(factory):
    with transaction(factory) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(3))
        a, b, c = jobs_db.claim_entries(s, "engine-a", 30, limit=3)

        def status():
            return jobs_db.get_job(s, "p1", job["id"])["status"]

        jobs_db.finish_entry(s, a["id"], "engine-a", "FAILURE", "quota exceeded")
        assert status() == "IN_PROGRESS"
        jobs_db.finish_entry(s, b["id"], "engine-a", "SUCCESS")
        assert status() == "IN_PROGRESS"
        jobs_db.finish_entry(s, c["id"], "engine-a", "SUCCESS")
        assert status() == "FAILURE"


@pytest.mark.parametrize(("statuses", "expected"), [
    (["SUCCESS", "SUCCESS"], "SUCCESS"),
    (["SUCCESS", "FAILURE"], "FAILURE"),
    (["FAILURE", "QUEUED"], "IN_PROGRESS"),
    (["SUCCESS", "IN_PROGRESS"], "IN_PROGRESS"),
])
def test_job_status_of_entry_statuses(statuses, expected):
    assert jobs_db.job_status(statuses) == expected


def test_two_engines_claiming_at_once_never_get_the_same_entry(db_url):
    """Two engines, each with its own connection pool, race on one SQLite file."""
    total = 60
    engines = [create_engine(db_url) for _ in range(2)]
    factories = [make_sessionmaker(engine) for engine in engines]
    with transaction(factories[0]) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(total))
    claimed: dict[str, list[int]] = {"engine-a": [], "engine-b": []}
    # Both engines claim in the same rounds, so the race happens on every round
    # however the scheduler favours one thread on a loaded machine.
    rounds = threading.Barrier(2)

    def run(owner, factory):
        for _ in range(total // 3 + 1):
            rounds.wait()
            with transaction(factory) as s:
                batch = jobs_db.claim_entries(s, owner, 30, limit=3)
            claimed[owner] += [e["id"] for e in batch]
            for entry in batch:
                with transaction(factory) as s:
                    assert jobs_db.finish_entry(s, entry["id"], owner, "SUCCESS")

    threads = [threading.Thread(target=run, args=(owner, f))
               for owner, f in zip(claimed, factories, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    both = claimed["engine-a"] + claimed["engine-b"]
    assert len(both) == len(set(both)) == total
    assert claimed["engine-a"] and claimed["engine-b"]
    with transaction(factories[0]) as s:
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "SUCCESS"
    for engine in engines:
        engine.dispose()
