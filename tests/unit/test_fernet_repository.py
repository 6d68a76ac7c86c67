"""The agent's repository writer and the read-only guard of replica Keystones."""

from __future__ import annotations

import json
import os
import pwd
import stat

import pytest
from cryptography.fernet import Fernet

from kingbird.identity import readonly, repository


def keys(n: int) -> list[str]:
    return [Fernet.generate_key().decode() for _ in range(n)]


def test_written_repository_is_private_and_records_its_version(tmp_path):
    repo = tmp_path / "fernet-keys"
    k = keys(2)
    counts = repository.write_repository(repo, {"0": k[0], "1": k[1]}, version=7)
    assert counts == {"written": 2, "removed": 0, "unchanged": 0}
    assert stat.S_IMODE(repo.stat().st_mode) == 0o700
    for name in ("0", "1", repository.STATE_FILE):
        assert stat.S_IMODE((repo / name).stat().st_mode) == 0o600
    assert repository.read_repository(repo) == {"0": k[0], "1": k[1]}
    assert repository.held_version(repo) == 7
    assert not [p for p in repo.iterdir() if "tmp" in p.name]


def test_a_repository_changed_behind_the_agent_holds_no_known_version(tmp_path):
    repo = tmp_path / "keys"
    k = keys(3)
    repository.write_repository(repo, {"0": k[0], "1": k[1]}, version=3)
    (repo / "2").write_text(k[2])  # keystone-manage fernet_rotate, say
    assert repository.held_version(repo) is None
    assert repository.held_version(tmp_path / "never-written") is None


def test_new_keys_are_in_place_before_any_old_one_is_removed(tmp_path, monkeypatch):
    repo = tmp_path / "keys"
    k = keys(4)
    repository.write_repository(repo, {"0": k[0], "1": k[1], "2": k[2]}, version=1)
    events = []
    real_replace, real_unlink = os.replace, os.unlink

    def replace(src, dst, *args, **kwargs):
        events.append(("replace", os.path.basename(dst)))
        return real_replace(src, dst, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        events.append(("unlink", os.path.basename(path)))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    # 1 retires, 3 (promoted from 0) arrives, 0 gets the next staged key
    counts = repository.write_repository(repo, {"0": k[3], "2": k[2], "3": k[0]}, version=2)
    assert counts == {"written": 2, "removed": 1, "unchanged": 1}
    key_events = [e for e in events if e[1].isdigit()]
    assert key_events == [("replace", "0"), ("replace", "3"), ("unlink", "1")]
    assert repository.read_repository(repo) == {"0": k[3], "2": k[2], "3": k[0]}


def test_rewriting_the_same_set_writes_no_key_file(tmp_path):
    repo = tmp_path / "keys"
    files = dict(zip(("0", "1"), keys(2), strict=True))
    repository.write_repository(repo, files, version=1)
    assert repository.write_repository(repo, files, version=1)["written"] == 0


def test_only_numbered_files_make_a_repository(tmp_path):
    with pytest.raises(repository.RepositoryError):
        repository.write_repository(tmp_path / "k", {"primary": keys(1)[0]}, version=1)
    with pytest.raises(repository.RepositoryError):
        repository.write_repository(tmp_path / "k", {}, version=1)
    # str.isdigit() is true of "²" (int() refuses it) and of "١" (int() reads 1)
    for name in ("²", "١", "1\n"):
        with pytest.raises(repository.RepositoryError, match="not a key repository"):
            repository.write_repository(tmp_path / "k", {"0": keys(1)[0], name: keys(1)[0]},
                                        version=1)


def test_only_ascii_numbers_are_read_as_key_files(tmp_path):
    k = keys(3)
    repository.write_repository(tmp_path, {"0": k[0], "1": k[1]}, version=1)
    (tmp_path / "²").write_text(k[2])
    (tmp_path / "١").write_text(k[2])
    assert repository.read_repository(tmp_path) == {"0": k[0], "1": k[1]}
    assert [repository.is_key_file_name(n) for n in ("0", "12", "²", "١", "1\n", "", 1)] == [
        True, True, False, False, False, False, False]


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_files_get_the_configured_owner(tmp_path):
    entry = pwd.getpwnam("nobody")
    owner = repository.parse_owner(f"nobody:{entry.pw_gid}")
    repo = tmp_path / "keys"
    repository.write_repository(repo, {"0": keys(1)[0], "1": keys(1)[0]}, 1, owner)
    for path in (repo, repo / "0", repo / "1"):
        assert (path.stat().st_uid, path.stat().st_gid) == owner


def test_owner_names_are_checked():
    assert repository.parse_owner(None) is None
    assert repository.parse_owner("0:0") == (0, 0)
    with pytest.raises(repository.RepositoryError, match="no user"):
        repository.parse_owner("no-such-user-kb")
    with pytest.raises(repository.RepositoryError, match="no group"):
        repository.parse_owner("root:no-such-group-kb")
    with pytest.raises(repository.RepositoryError, match="no user"):
        repository.parse_owner("²")
    with pytest.raises(repository.RepositoryError, match="no group"):
        repository.parse_owner("root:²")


def test_state_file_is_json_with_a_digest(tmp_path):
    repo = tmp_path / "keys"
    files = {"0": keys(1)[0], "1": keys(1)[0]}
    repository.write_repository(repo, files, version=4)
    state = json.loads((repo / repository.STATE_FILE).read_text())
    assert state == {"version": 4, "digest": repository.digest(files)}


@pytest.mark.parametrize("method, path, write", [
    ("GET", "/v3/users", False),
    ("HEAD", "/v3/auth/tokens", False),
    ("POST", "/v3/auth/tokens", False),
    ("POST", "/v3/auth/tokens/", False),
    ("POST", "/v3/ec2tokens", False),
    ("DELETE", "/v3/auth/tokens", True),
    ("POST", "/v3/users", True),
    ("PATCH", "/v3/users/abc", True),
    ("PUT", "/v3/projects/p/users/u/roles/r", True),
    ("POST", "/v3/auth/OS-FEDERATION/saml2", True),
])
def test_read_only_guard_tells_writes_from_reads(method, path, write):
    assert readonly.is_write(method, path) is write


def test_read_only_guard_answers_403_naming_the_master():
    calls = []
    guard = readonly.ReadOnlyGuard(lambda env, start: calls.append(env) or [b"ok"],
                                   "http://master:5000/v3", "RegionTwo")
    statuses = []
    body = b"".join(guard({"REQUEST_METHOD": "POST", "PATH_INFO": "/v3/users"},
                          lambda status, headers: statuses.append(status)))
    assert statuses == ["403 Forbidden"] and not calls
    message = json.loads(body)["error"]["message"]
    assert "read-only replica" in message and "http://master:5000/v3" in message
    assert guard({"REQUEST_METHOD": "GET", "PATH_INFO": "/v3/users"}, None) == [b"ok"]
