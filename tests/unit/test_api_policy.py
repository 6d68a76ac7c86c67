"""Who the policy takes for whom (kingbird.api.policy): tokens without a project,
the empty project, and the cloud administrator with ``[oslo_policy]
enforce_new_defaults`` off (Kingbird's default) and on."""

from __future__ import annotations

import pytest

from kingbird import config, runtime
from kingbird.api.context import RequestContext
from kingbird.api.policy import Authoriser
from kingbird.core import exceptions

PROJECT, OTHER = "a" * 32, "b" * 32


def caller(roles: str = "member,reader", *, project: str = PROJECT, domain: str = "",
           system: str = "") -> RequestContext:
    """The context of a request as auth_token leaves its headers."""
    environ = {"HTTP_X_USER_ID": "u1", "HTTP_X_ROLES": roles}
    if project:
        environ["HTTP_X_PROJECT_ID"] = project
    if domain:
        environ["HTTP_X_DOMAIN_ID"] = domain
    # auth_token writes the header for every token: None unless system-scoped.
    environ["HTTP_OPENSTACK_SYSTEM_SCOPE"] = system or None
    return RequestContext.from_environ(environ)


def authoriser(*args: str) -> Authoriser:
    features = [rule for feature in runtime.API_FEATURES for rule in feature.policy_rules()]
    return Authoriser(config.load_config(list(args)), features)


@pytest.fixture(scope="module")
def legacy() -> Authoriser:
    return authoriser()


@pytest.fixture(scope="module")
def new_defaults(tmp_path_factory) -> Authoriser:
    conf = tmp_path_factory.mktemp("policy") / "kingbird.conf"
    conf.write_text("[oslo_policy]\nenforce_new_defaults = true\n")
    return authoriser("--config-file", str(conf))


def admitted(auth: Authoriser, ctx: RequestContext, rule: str, target: dict) -> bool:
    ctx = RequestContext(**{**ctx.__dict__, "is_admin": auth.is_admin(ctx)})
    try:
        auth.authorise(ctx, rule, target)
    except exceptions.Forbidden:
        return False
    return True


def test_kingbird_keeps_the_legacy_administrator_by_default():
    assert config.load_config([]).oslo_policy.enforce_new_defaults is False


@pytest.mark.parametrize("ctx", [
    caller(project=""),  # unscoped
    caller(project="", domain="default"),
    caller("admin,member,reader", project="", domain="default"),
    caller(project="", system="all"),
], ids=["unscoped", "domain", "domain-admin", "system-member"])
@pytest.mark.parametrize("rule,target", [
    ("kingbird:sync:list", {"project_id": ""}),  # a v1.1 route: the token's project
    ("kingbird:quota:defaults", {}),  # "@"
    ("kingbird:quota:show", {"project_id": PROJECT}),
])
def test_a_token_without_a_project_is_refused_unless_an_administrators(legacy, ctx, rule,
                                                                       target):
    assert not legacy.is_admin(ctx)
    assert not admitted(legacy, ctx, rule, target)


def test_the_empty_project_is_nobody_s(legacy):
    system_admin = caller("admin,member,reader", project="", system="all")
    assert not admitted(legacy, system_admin, "kingbird:sync:list", {"project_id": ""})
    assert not admitted(legacy, caller(), "kingbird:sync:list", {"project_id": ""})
    assert admitted(legacy, system_admin, "kingbird:sync:list", {"project_id": PROJECT})


def test_a_forged_system_scope_beside_a_project_is_ignored():
    ctx = caller("admin", project=PROJECT, system="all")  # an X-Service-Token's header
    assert ctx.system_scope == "" and ctx.policy_credentials()["system_scope"] == ""


@pytest.mark.parametrize("auth_name,project_admin,system_admin", [
    ("legacy", True, True), ("new_defaults", False, True)])
def test_who_is_a_cloud_administrator(request, auth_name, project_admin, system_admin):
    auth = request.getfixturevalue(auth_name)
    on_a_project = caller("admin,member,reader", project=OTHER)
    on_the_system = caller("admin,member,reader", project="", system="all")
    assert auth.is_admin(on_a_project) is project_admin
    assert auth.is_admin(on_the_system) is system_admin
    assert not auth.is_admin(caller())
    for ctx, expected in ((on_a_project, project_admin), (on_the_system, system_admin)):
        assert admitted(auth, ctx, "kingbird:quota:update", {"project_id": PROJECT}) is expected
        assert admitted(auth, ctx, "kingbird:quota_class:update", {}) is expected
    # With the new defaults the admin of a project is still a member of it.
    assert admitted(auth, on_a_project, "kingbird:sync:create", {"project_id": OTHER})
    assert not admitted(auth, caller(), "kingbird:quota:update", {"project_id": PROJECT})
