"""Migrations, ``kingbird-manage`` and claim exclusivity on real database servers.

Each test gets a throwaway database (random name, dropped afterwards) on the
PostgreSQL server at 127.0.0.1:5432 (user ``postgres``, trust authentication)
and on the MariaDB/MySQL server at 127.0.0.1:3306 (``root``, no password). A
test is skipped only when its server cannot be reached.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from db_servers import mariadb_database, postgresql_database

from kingbird.core.exceptions import ServiceUnavailable
from kingbird.db import leases, migration
from kingbird.db.session import create_engine, make_sessionmaker, transaction
from kingbird.models import Base
from kingbird.network import repository as networks_db
from kingbird.quota import repository as quota_db
from kingbird.quota import schedule_repository as schedule_db
from kingbird.quota import status_repository as status_db
from kingbird.quota.models import ProjectSyncStatus
from kingbird.sync import repository as jobs_db

pytestmark = pytest.mark.functional

SYNC_STATUS = ProjectSyncStatus.__table__
TABLES = {"quotas", "quota_classes", "project_sync_status", "sync_jobs", "sync_job_entries"}


@pytest.fixture(params=["postgresql", "mariadb"])
def server_url(request):
    databases = {"postgresql": postgresql_database, "mariadb": mariadb_database}
    with databases[request.param]() as url:
        yield url


@pytest.fixture
def migrated_url(server_url):
    migration.upgrade(server_url)
    return server_url


@pytest.fixture
def engines(migrated_url):
    """Two engines with their own connection pools: two Kingbird engine processes."""
    made = [create_engine(migrated_url) for _ in range(2)]
    yield made
    for engine in made:
        engine.dispose()


def manage(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("kingbird-manage")
    command = [str(script)] if script.exists() else [sys.executable, "-m",
                                                     "kingbird.cmd.manage"]
    return subprocess.run(command + list(args), capture_output=True, text=True, timeout=120)


def run_concurrently(*targets) -> None:
    errors: list[BaseException] = []

    def guarded(target):
        try:
            target()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if errors:
        raise errors[0]


def entries(n: int) -> list[dict]:
    return [{"resource": f"key{i}", "resource_type": "keypair", "source_region": "RegionOne",
             "target_region": f"Region{i % 3}", "force": False} for i in range(n)]


def test_manage_db_upgrade_creates_the_schema_and_db_version_prints_head(server_url):
    before = manage("--database-connection", server_url, "db", "version")
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == "base"

    upgraded = manage("--database-connection", server_url, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    version = manage("--database-connection", server_url, "db", "version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == migration.head_revision()

    engine = sa.create_engine(server_url)
    try:
        assert TABLES <= set(sa.inspect(engine).get_table_names())
        if engine.dialect.name == "postgresql":
            # MariaDB reports JSON columns as LONGTEXT, which reads as a difference.
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_manage_config_file_selects_the_database(server_url, tmp_path):
    conf = tmp_path / "kingbird.conf"
    conf.write_text(f"[database]\nconnection = {server_url}\n")
    result = manage("--config-file", str(conf), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert migration.current_version(server_url) == migration.head_revision()


def test_manage_reports_an_unreachable_database_in_one_line():
    result = manage("--database-connection",
                    "postgresql+psycopg2://kingbird:secret@127.0.0.1:1/kingbird",
                    "db", "upgrade")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot use the database" in result.stderr
    assert "secret" not in result.stderr


def test_two_engines_never_claim_the_same_entry(engines):
    factories = [make_sessionmaker(engine) for engine in engines]
    total = 150
    with transaction(factories[0]) as s:
        job = jobs_db.create_job(s, "p1", "u1", entries(total))
    claimed: dict[str, list[int]] = {"engine-a": [], "engine-b": []}
    start = threading.Barrier(2)

    def engine_loop(owner, factory):
        def run():
            start.wait()
            while True:
                with transaction(factory) as s:
                    batch = jobs_db.claim_entries(s, owner, 30, limit=4)
                if not batch:
                    return
                claimed[owner] += [e["id"] for e in batch]
                for entry in batch:
                    with transaction(factory) as s:
                        assert jobs_db.finish_entry(s, entry["id"], owner, "SUCCESS")
        return run

    run_concurrently(*(engine_loop(o, f) for o, f in zip(claimed, factories, strict=True)))
    both = claimed["engine-a"] + claimed["engine-b"]
    assert len(both) == len(set(both)) == total
    assert claimed["engine-a"] and claimed["engine-b"]
    with transaction(factories[0]) as s:
        # Both engines finished entries of one job: the last one must see them all.
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "SUCCESS"


def test_expired_leases_are_claimed_again_to_the_microsecond(engines):
    factory = make_sessionmaker(engines[0])
    t0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    with transaction(factory) as s:
        jobs_db.create_job(s, "p1", "u1", entries(2))
        first = jobs_db.claim_entries(s, "engine-a", 0.5, limit=2, now=t0)
    expiry = t0 + dt.timedelta(seconds=0.5)
    assert {e["lease_expires_at"] for e in first} == {expiry}
    with transaction(factory) as s:
        before = expiry - dt.timedelta(microseconds=1)
        assert jobs_db.claim_entries(s, "engine-b", 30, limit=2, now=before) == []
    with transaction(factory) as s:
        again = jobs_db.claim_entries(s, "engine-b", 30, limit=2, now=expiry)
    assert [e["id"] for e in again] == [e["id"] for e in first]
    assert {e["attempts"] for e in again} == {2}


def test_one_engine_wins_each_project_sync_lease(engines):
    factories = [make_sessionmaker(engine) for engine in engines]
    projects = [f"p{i}" for i in range(40)]
    won: dict[str, list[str]] = {"engine-a": [], "engine-b": []}
    start = threading.Barrier(2)
    with transaction(factories[0]) as s:
        schedule_db.schedule_projects(s, projects)

    def engine_loop(owner, factory):
        def run():
            start.wait()
            for project in projects:
                with transaction(factory) as s:
                    if leases.claim(s, SYNC_STATUS, project, owner, 30):
                        won[owner].append(project)
        return run

    run_concurrently(*(engine_loop(o, f) for o, f in zip(won, factories, strict=True)))
    assert sorted(won["engine-a"] + won["engine-b"]) == sorted(projects)


def test_concurrent_limit_upserts_do_not_conflict(engines):
    factories = [make_sessionmaker(engine) for engine in engines]
    start = threading.Barrier(2)

    def writer(limit, factory):
        def run():
            start.wait()
            for i in range(20):
                with transaction(factory) as s:
                    quota_db.set_project_limits(s, f"p{i}", {"cores": limit, "ram": limit})
        return run

    run_concurrently(writer(1, factories[0]), writer(2, factories[1]))
    with transaction(factories[0]) as s:
        assert len(quota_db.projects_with_limits(s)) == 20
        assert quota_db.get_project_limits(s, "p7")["cores"] in (1, 2)


def test_every_repository_function_works_on_the_server(engines):
    factory = make_sessionmaker(engines[0])
    t0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    with transaction(factory) as s:
        quota_db.set_project_limits(s, "p1", {"cores": 10, "ram": 512})
        quota_db.set_project_limits(s, "p1", {"cores": 20})
        quota_db.set_class_limits(s, "default", {"cores": 100})
        status_db.request_project_sync(s, "p1", now=t0)
        status_db.request_project_sync(s, "p1", now=t0 + dt.timedelta(seconds=1))
        job = jobs_db.create_job(s, "p1", "u1", entries(2), request_id="req-9")
    with transaction(factory) as s:
        assert quota_db.get_project_limits(s, "p1") == {"cores": 20, "ram": 512}
        assert quota_db.delete_project_limits(s, "p1", ["ram"]) == 1
        assert quota_db.projects_with_limits(s) == ["p1"]
        assert quota_db.get_class_limits(s, "default") == {"cores": 100}
        assert quota_db.delete_class(s, "default") == 1
        assert status_db.get_sync_status(s, "p1")["requested_at"] is not None
        (claimed_project,) = schedule_db.claim_due_projects(s, "engine-a", 30, t0, now=t0)
        assert claimed_project.project_id == "p1"
        assert not leases.claim(s, SYNC_STATUS, "p1", "engine-b", 30, now=t0)
        assert status_db.renew_project_leases(s, ["p1"], "engine-a", 30, now=t0) == ["p1"]
        status_db.record_sync_result(s, "p1", "FAILURE", ["RegionTwo", "RegionThree"], "timeout",
                                     now=t0, owner="engine-a")
    with transaction(factory) as s:
        status = status_db.get_sync_status(s, "p1")
        assert jobs_db.list_jobs(s, "p1", active_only=True) == [job]
        claimed = jobs_db.claim_entries(s, "engine-a", 30, limit=10)
        assert jobs_db.renew_lease(s, [e["id"] for e in claimed], "engine-a", 30) == [
            e["id"] for e in claimed]
        for entry in claimed:
            assert jobs_db.finish_entry(s, entry["id"], "engine-a", "SUCCESS")
    assert status["failed_regions"] == ["RegionTwo", "RegionThree"]
    assert status["lease_owner"] is None and status["requested_at"] is None
    assert status["last_sync_at"] == t0
    with transaction(factory) as s:
        assert jobs_db.get_job(s, "p1", job["id"])["status"] == "SUCCESS"
        assert jobs_db.delete_job(s, "p1", job["id"]) is True
        assert jobs_db.get_job_entries(s, job["id"]) == []


def test_pages_counts_and_released_vxlan_ids_on_the_server(engines):
    """The queries of pagination and of the networking limits, on each server."""
    factory = make_sessionmaker(engines[0])
    t0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    with transaction(factory) as s:
        jobs = [jobs_db.create_job(s, "p1", "u1", entries(1), now=t0) for _ in range(3)]
        jobs.append(jobs_db.create_job(s, "p1", "u1", entries(1), now=t0 + dt.timedelta(1)))
    ordered = sorted(jobs[:3], key=lambda j: j["id"]) + jobs[3:]
    with transaction(factory) as s:
        assert [j["id"] for j in jobs_db.list_jobs(s, "p1", after=ordered[0], limit=2)] == [
            j["id"] for j in ordered[1:3]]
        assert jobs_db.list_jobs(s, "p1", after=ordered[2]) == [ordered[3]]
        parts = {"R1": {"gateway_ip": None, "allocation_pools": []}}
        made = [networks_db.create_global_network(
            s, project_id="p1", name="n", cidr="10.0.0.0/24", ip_version=4, gateway_regions=[],
            reserved=0, parts=parts, ranges=[(10, 11)]) for _ in range(2)]
        networks_db.save_network_ports(s, made[0]["id"], [
            {"region": "R1", "port_id": "a", "shadows": {"R2": "s1", "R3": None}}], ["R1"])
        networks_db.create_vip(s, made[1]["id"], "10.0.0.9", [{"region": "R1", "port_id": "a"}])
        networks_db.update_vip(s, networks_db.network_vips(s, made[1]["id"])[0]["id"],
                               reservations={"R1": "r1", "R2": "r2"})
    with transaction(factory) as s:
        assert networks_db.count_global_networks(s, "p1") == 2
        assert networks_db.count_project_vips(s, "p1") == 1
        assert networks_db.service_ports_held(s, "p1") == 3
        assert networks_db.service_ports_held(s, "p1", but=made[1]["id"]) == 1
        networks_db.release_segment(s, made[0]["id"], "refused everywhere")
    with transaction(factory) as s:
        again = networks_db.create_global_network(
            s, project_id="p2", name="n", cidr="10.0.0.0/24", ip_version=4, gateway_regions=[],
            reserved=0, parts=parts, ranges=[(10, 11)])
        assert again["segmentation_id"] == made[0]["segmentation_id"]
    with transaction(factory) as s, pytest.raises(ServiceUnavailable, match="VXLAN id"):
        networks_db.assign_segment(s, made[0]["id"], [(10, 11)])
