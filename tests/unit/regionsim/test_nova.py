"""The simulated Nova, route by route, through Flask's test client.

Every endpoint with a tempest.lib response schema is validated against it, at
2.1 and at the latest microversion tempest describes up to our 2.90.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from _sim_client import ADMIN, DEMO, OTHER, Caller, create_image, create_network, make_region
from _sim_client import validate as check
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from tempest.lib.api_schema.response.compute.v2_1 import flavors as flavors21
from tempest.lib.api_schema.response.compute.v2_1 import (
    flavors_access,
    flavors_extra_specs,
    versions,
)
from tempest.lib.api_schema.response.compute.v2_1 import keypairs as keypairs21
from tempest.lib.api_schema.response.compute.v2_1 import limits as limits21
from tempest.lib.api_schema.response.compute.v2_1 import quota_classes as classes21
from tempest.lib.api_schema.response.compute.v2_1 import quotas as quotas21
from tempest.lib.api_schema.response.compute.v2_1 import servers as servers21
from tempest.lib.api_schema.response.compute.v2_2 import keypairs as keypairs22
from tempest.lib.api_schema.response.compute.v2_36 import limits as limits236
from tempest.lib.api_schema.response.compute.v2_36 import quotas as quotas236
from tempest.lib.api_schema.response.compute.v2_39 import limits as limits239
from tempest.lib.api_schema.response.compute.v2_50 import quota_classes as classes250
from tempest.lib.api_schema.response.compute.v2_55 import flavors as flavors255
from tempest.lib.api_schema.response.compute.v2_57 import limits as limits257
from tempest.lib.api_schema.response.compute.v2_57 import quota_classes as classes257
from tempest.lib.api_schema.response.compute.v2_57 import quotas as quotas257
from tempest.lib.api_schema.response.compute.v2_61 import flavors as flavors261
from tempest.lib.api_schema.response.compute.v2_89 import servers as servers289

API = "/compute/v2.1"


@pytest.fixture
def region_app(tmp_path):
    return make_region(tmp_path)


@pytest.fixture
def admin(region_app):
    return Caller(region_app[1], ADMIN, "compute", None)


@pytest.fixture
def demo(region_app):
    return Caller(region_app[1], DEMO, "compute", None)


@pytest.fixture
def other(region_app):
    return Caller(region_app[1], OTHER, "compute", None)


@pytest.fixture
def image(admin):
    return create_image(admin, b"root-disk", name="cirros")


@pytest.fixture
def network(demo):
    return create_network(demo)


def boot(caller, image_id, network_id=None, flavor="1", **extra):
    server = {"name": "vm", "imageRef": image_id, "flavorRef": flavor}
    if network_id:
        server["networks"] = [{"uuid": network_id}]
    server.update(extra)
    return caller.post(f"{API}/servers", {"server": server})


def fault(resp) -> tuple[str, int, str]:
    (name, body), = resp.get_json().items()
    return name, body["code"], body["message"]


# -- versions and microversions ----------------------------------------------

def test_version_documents_match_tempest_schemas(demo):
    check(versions.list_versions, demo.get("/compute/"))
    check(versions.get_one_version, demo.get(API))
    doc = demo.get(API + "/").get_json()["version"]
    assert (doc["min_version"], doc["version"]) == ("2.1", "2.90")


def test_microversion_is_echoed_in_both_headers(demo):
    resp = demo.at("2.53").get(f"{API}/flavors")
    assert resp.headers["OpenStack-API-Version"] == "compute 2.53"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.53"
    legacy = demo.get(f"{API}/flavors", headers={"X-OpenStack-Nova-API-Version": "2.10"})
    assert legacy.headers["X-OpenStack-Nova-API-Version"] == "2.10"
    assert demo.get(f"{API}/flavors").headers["OpenStack-API-Version"] == "compute 2.1"
    assert demo.at("latest").get(f"{API}/flavors").headers[
        "OpenStack-API-Version"] == "compute 2.90"


def test_unsupported_microversion_is_406_and_garbage_is_400(demo):
    resp = demo.at("2.91").get(f"{API}/flavors")
    assert resp.status_code == 406
    assert fault(resp)[0] == "computeFault"
    assert demo.get(f"{API}/flavors", headers={"OpenStack-API-Version": "compute 2.x"}
                    ).status_code == 400


def test_legacy_project_url_must_match_token_project(demo):
    assert demo.get(f"{API}/{demo.project_id}/flavors").status_code == 200
    resp = demo.get(f"{API}/someone-else/flavors")
    assert resp.status_code == 400
    assert "Malformed request URL" in fault(resp)[2]


# -- quota sets, quota classes, limits ---------------------------------------

@pytest.mark.parametrize("version,schema", [(None, quotas21), ("2.36", quotas236),
                                            ("2.57", quotas257)])
def test_quota_set_bodies_match_each_microversion(demo, admin, version, schema):
    member = demo.at(version) if version else demo
    chief = admin.at(version) if version else admin
    check(schema.get_quota_set, member.get(f"{API}/os-quota-sets/{demo.project_id}"))
    check(schema.get_quota_set_details,
          member.get(f"{API}/os-quota-sets/{demo.project_id}/detail"))
    check(schema.get_quota_set, member.get(f"{API}/os-quota-sets/{demo.project_id}/defaults"))
    check(schema.update_quota_set, chief.put(f"{API}/os-quota-sets/{demo.project_id}",
                                             {"quota_set": {"cores": 40}}))
    check(schema.delete_quota, chief.delete(f"{API}/os-quota-sets/{demo.project_id}"))


def test_network_quotas_disappear_at_2_36_and_personality_at_2_57(demo):
    path = f"{API}/os-quota-sets/{demo.project_id}"
    assert "floating_ips" in demo.get(path).get_json()["quota_set"]
    assert "floating_ips" not in demo.at("2.36").get(path).get_json()["quota_set"]
    assert "injected_files" in demo.at("2.56").get(path).get_json()["quota_set"]
    assert "injected_files" not in demo.at("2.57").get(path).get_json()["quota_set"]


def test_member_reads_own_quota_but_not_another_projects(demo, other):
    assert demo.get(f"{API}/os-quota-sets/{demo.project_id}").status_code == 200
    resp = demo.get(f"{API}/os-quota-sets/{other.project_id}/detail")
    assert resp.status_code == 403
    assert fault(resp) == ("forbidden", 403, "Policy doesn't allow "
                           "os_compute_api:os-quota-sets:detail to be performed.")


def test_only_admins_update_or_revert_quotas(demo):
    path = f"{API}/os-quota-sets/{demo.project_id}"
    assert demo.put(path, {"quota_set": {"cores": 1}}).status_code == 403
    assert demo.delete(path).status_code == 403


def test_quota_update_refuses_limit_below_usage_unless_forced(admin, demo, image, network):
    assert boot(demo, image, network, flavor="3").status_code == 202
    path = f"{API}/os-quota-sets/{demo.project_id}"
    resp = admin.put(path, {"quota_set": {"cores": 1}})
    assert resp.status_code == 400
    assert fault(resp)[2] == ("Quota limit 1 for cores must be greater than or equal to "
                              "already used and reserved 2.")
    resp = admin.put(path, {"quota_set": {"cores": 1, "force": True}})
    assert resp.status_code == 200
    assert resp.get_json()["quota_set"]["cores"] == 1


def test_quota_update_rejects_unknown_and_removed_keys(admin, demo):
    path = f"{API}/os-quota-sets/{demo.project_id}"
    assert admin.put(path, {"quota_set": {"bogus": 1}}).status_code == 400
    assert admin.at("2.36").put(path, {"quota_set": {"floating_ips": 1}}).status_code == 400
    assert admin.put(path, {"quota_set": {"cores": -2}}).status_code == 400


def test_quota_detail_counts_servers_and_revert_restores_defaults(admin, demo, image, network):
    path = f"{API}/os-quota-sets/{demo.project_id}"
    admin.put(path, {"quota_set": {"instances": 3}})
    boot(demo, image, network, flavor="2")
    detail = demo.get(path + "/detail").get_json()["quota_set"]
    assert detail["instances"] == {"in_use": 1, "limit": 3, "reserved": 0}
    assert detail["cores"]["in_use"] == 1 and detail["ram"]["in_use"] == 2048
    assert detail["key_pairs"]["in_use"] == 0  # per-user: Nova always reports 0
    admin.delete(path)
    assert demo.get(path).get_json()["quota_set"]["instances"] == 10


@pytest.mark.parametrize("version,schema", [(None, classes21), ("2.50", classes250),
                                            ("2.57", classes257)])
def test_quota_class_bodies_match_each_microversion(admin, version, schema):
    chief = admin.at(version) if version else admin
    check(schema.get_quota_class_set, chief.get(f"{API}/os-quota-class-sets/default"))
    check(schema.update_quota_class_set,
          chief.put(f"{API}/os-quota-class-sets/default", {"quota_class_set": {"ram": 1024}}))


def test_default_quota_class_changes_every_projects_default(admin, demo):
    admin.put(f"{API}/os-quota-class-sets/default", {"quota_class_set": {"instances": 7}})
    assert demo.get(f"{API}/os-quota-sets/{demo.project_id}").get_json()[
        "quota_set"]["instances"] == 7
    assert demo.get(f"{API}/os-quota-class-sets/default").status_code == 403


@pytest.mark.parametrize("version,schema,gone", [
    (None, limits21, None), ("2.36", limits236, "maxSecurityGroups"),
    ("2.39", limits239, "maxImageMeta"), ("2.57", limits257, "maxPersonality")])
def test_limits_match_each_microversion_and_count_usage(demo, image, network, version,
                                                        schema, gone):
    boot(demo, image, network, flavor="2")
    resp = (demo.at(version) if version else demo).get(f"{API}/limits")
    check(schema.get_limit, resp)
    absolute = resp.get_json()["limits"]["absolute"]
    assert absolute["totalCoresUsed"] == 1 and absolute["totalInstancesUsed"] == 1
    assert absolute["totalRAMUsed"] == 2048 and absolute["maxTotalCores"] == 20
    assert gone is None or gone not in absolute


def test_limits_of_another_project_are_admin_only(admin, demo):
    assert demo.get(f"{API}/limits?tenant_id={ADMIN[1]}").status_code == 403
    assert admin.get(f"{API}/limits?tenant_id={demo.project_id}").status_code == 200


# -- keypairs ----------------------------------------------------------------

def test_generated_keypair_is_a_real_rsa_key_with_nova_fingerprint(demo):
    resp = demo.post(f"{API}/os-keypairs", {"keypair": {"name": "k1"}})
    check(keypairs21.create_keypair, resp)
    kp = resp.get_json()["keypair"]
    private = serialization.load_pem_private_key(kp["private_key"].encode(), None)
    public = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
    assert kp["public_key"].startswith(public)
    blob = base64.b64decode(kp["public_key"].split()[1])
    assert kp["fingerprint"] == ":".join(
        f"{b:02x}" for b in hashlib.md5(blob, usedforsecurity=False).digest())


def test_imported_ed25519_key_keeps_its_fingerprint_and_type(demo):
    key = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    resp = demo.at("2.2").post(f"{API}/os-keypairs",
                               {"keypair": {"name": "ed", "public_key": key + " me@host"}})
    check(keypairs22.create_keypair, resp)
    body = resp.get_json()["keypair"]
    assert body["type"] == "ssh" and "private_key" not in body
    digest = hashlib.md5(base64.b64decode(key.split()[1]), usedforsecurity=False).digest()
    assert body["fingerprint"] == ":".join(f"{b:02x}" for b in digest)


def test_invalid_public_key_is_a_400(demo):
    resp = demo.post(f"{API}/os-keypairs", {"keypair": {"name": "x", "public_key": "nope"}})
    assert fault(resp) == ("badRequest", 400,
                           "Keypair data is invalid: failed to generate fingerprint")


def test_x509_keypair_gets_a_certificate(demo):
    resp = demo.at("2.2").post(f"{API}/os-keypairs", {"keypair": {"name": "c", "type": "x509"}})
    assert resp.status_code == 201
    assert "BEGIN CERTIFICATE" in resp.get_json()["keypair"]["public_key"]


def test_keypair_list_show_delete_match_schemas(demo):
    demo.post(f"{API}/os-keypairs", {"keypair": {"name": "k1"}})
    check(keypairs21.list_keypairs, demo.get(f"{API}/os-keypairs"))
    check(keypairs22.list_keypairs, demo.at("2.2").get(f"{API}/os-keypairs"))
    check(keypairs21.get_keypair, demo.get(f"{API}/os-keypairs/k1"))
    check(keypairs22.get_keypair, demo.at("2.2").get(f"{API}/os-keypairs/k1"))
    check(keypairs21.delete_keypair, demo.delete(f"{API}/os-keypairs/k1"))
    resp = demo.get(f"{API}/os-keypairs/k1")
    assert fault(resp) == ("itemNotFound", 404, f"Keypair k1 not found for user {DEMO[0]}")


def test_keypair_v2_2_codes_are_201_and_204(demo):
    member = demo.at("2.2")
    assert member.post(f"{API}/os-keypairs", {"keypair": {"name": "k"}}).status_code == 201
    check(keypairs22.delete_keypair, member.delete(f"{API}/os-keypairs/k"))


def test_duplicate_keypair_conflicts_and_quota_is_per_user(admin, demo):
    demo.post(f"{API}/os-keypairs", {"keypair": {"name": "k"}})
    resp = demo.post(f"{API}/os-keypairs", {"keypair": {"name": "k"}})
    assert fault(resp) == ("conflictingRequest", 409, "Key pair 'k' already exists.")
    admin.put(f"{API}/os-quota-sets/{demo.project_id}", {"quota_set": {"key_pairs": 1}})
    resp = demo.post(f"{API}/os-keypairs", {"keypair": {"name": "k2"}})
    assert fault(resp) == ("forbidden", 403, "Quota exceeded, too many key pairs.")


def test_admin_manages_another_users_keypairs_from_2_10(admin, demo):
    chief = admin.at("2.10")
    resp = chief.post(f"{API}/os-keypairs", {"keypair": {"name": "for-demo",
                                                         "user_id": DEMO[0]}})
    assert resp.status_code == 201 and resp.get_json()["keypair"]["user_id"] == DEMO[0]
    assert [k["keypair"]["name"] for k in demo.get(f"{API}/os-keypairs").get_json()[
        "keypairs"]] == ["for-demo"]
    assert chief.get(f"{API}/os-keypairs/for-demo?user_id={DEMO[0]}").status_code == 200
    assert demo.at("2.10").get(f"{API}/os-keypairs?user_id={ADMIN[0]}").status_code == 403
    assert chief.delete(f"{API}/os-keypairs/for-demo?user_id={DEMO[0]}").status_code == 204


# -- flavors -----------------------------------------------------------------

def test_default_flavors_exist_with_usual_ids(demo):
    resp = demo.get(f"{API}/flavors")
    check(flavors21.list_flavors, resp)
    assert [(f["id"], f["name"]) for f in resp.get_json()["flavors"]] == [
        ("1", "m1.tiny"), ("2", "m1.small"), ("3", "m1.medium"), ("4", "m1.large"),
        ("5", "m1.xlarge")]
    check(flavors21.list_flavors_details, demo.get(f"{API}/flavors/detail"))
    check(flavors21.create_update_get_flavor_details, demo.get(f"{API}/flavors/1"))


@pytest.mark.parametrize("version,schema", [("2.55", flavors255), ("2.61", flavors261)])
def test_flavor_bodies_match_later_microversions(demo, version, schema):
    member = demo.at(version)
    check(schema.list_flavors, member.get(f"{API}/flavors"))
    check(schema.list_flavors_details, member.get(f"{API}/flavors/detail"))
    check(schema.create_update_get_flavor_details, member.get(f"{API}/flavors/3"))


def test_swap_is_empty_string_before_2_75_and_zero_after(demo):
    assert demo.get(f"{API}/flavors/1").get_json()["flavor"]["swap"] == ""
    assert demo.at("2.75").get(f"{API}/flavors/1").get_json()["flavor"]["swap"] == 0


def test_admin_creates_and_deletes_flavors_members_cannot(admin, demo):
    spec = {"flavor": {"name": "big", "ram": 1024, "vcpus": 2, "disk": 10, "id": "big",
                       "swap": 512, "OS-FLV-EXT-DATA:ephemeral": 5, "rxtx_factor": 2.0}}
    assert demo.post(f"{API}/flavors", spec).status_code == 403
    resp = admin.post(f"{API}/flavors", spec)
    check(flavors21.create_update_get_flavor_details, resp)
    body = resp.get_json()["flavor"]
    assert (body["swap"], body["OS-FLV-EXT-DATA:ephemeral"], body["rxtx_factor"]) == (
        512, 5, 2.0)
    assert fault(admin.post(f"{API}/flavors", spec))[1] == 409
    check(flavors21.delete_flavor, admin.delete(f"{API}/flavors/big"))
    assert demo.get(f"{API}/flavors/big").status_code == 404


def test_private_flavor_is_seen_only_by_projects_given_access(admin, demo, other):
    admin.post(f"{API}/flavors", {"flavor": {"name": "p", "ram": 64, "vcpus": 1, "disk": 0,
                                             "id": "priv",
                                             "os-flavor-access:is_public": False}})
    assert demo.get(f"{API}/flavors/priv").status_code == 404
    resp = admin.post(f"{API}/flavors/priv/action",
                      {"addTenantAccess": {"tenant": demo.project_id}})
    check(flavors_access.add_remove_list_flavor_access, resp)
    check(flavors_access.add_remove_list_flavor_access,
          admin.get(f"{API}/flavors/priv/os-flavor-access"))
    assert demo.get(f"{API}/flavors/priv").status_code == 200
    assert "priv" in [f["id"] for f in demo.get(f"{API}/flavors").get_json()["flavors"]]
    assert other.get(f"{API}/flavors/priv").status_code == 404
    resp = admin.post(f"{API}/flavors/priv/action",
                      {"removeTenantAccess": {"tenant": demo.project_id}})
    check(flavors_access.add_remove_list_flavor_access, resp)
    assert demo.get(f"{API}/flavors/priv").status_code == 404


def test_flavor_access_rules_for_public_flavors(admin):
    resp = admin.get(f"{API}/flavors/1/os-flavor-access")
    assert fault(resp) == ("itemNotFound", 404, "Access list not available for public "
                                                "flavors.")
    resp = admin.post(f"{API}/flavors/1/action", {"addTenantAccess": {"tenant": "x"}})
    assert fault(resp)[1] == 409


def test_extra_specs_crud_matches_schemas(admin, demo):
    base = f"{API}/flavors/2/os-extra_specs"
    check(flavors_extra_specs.set_get_flavor_extra_specs,
          admin.post(base, {"extra_specs": {"hw:cpu_policy": "dedicated", "a": "1"}}))
    check(flavors_extra_specs.set_get_flavor_extra_specs, demo.get(base))
    check(flavors_extra_specs.set_get_flavor_extra_specs_key, demo.get(base + "/a"))
    check(flavors_extra_specs.set_get_flavor_extra_specs_key,
          admin.put(base + "/a", {"a": "2"}))
    check(flavors_extra_specs.unset_flavor_extra_specs, admin.delete(base + "/a"))
    assert demo.get(base + "/a").status_code == 404
    assert demo.post(base, {"extra_specs": {"b": "1"}}).status_code == 403
    assert demo.at("2.61").get(f"{API}/flavors/2").get_json()["flavor"]["extra_specs"] == {
        "hw:cpu_policy": "dedicated"}


# -- servers -----------------------------------------------------------------

def test_server_create_show_list_match_schemas(demo, image, network):
    resp = boot(demo, image, network)
    check(servers21.create_server_with_admin_pass, resp)
    server_id = resp.get_json()["server"]["id"]
    assert resp.headers["Location"].endswith(f"/servers/{server_id}")
    check(servers21.get_server, demo.get(f"{API}/servers/{server_id}"))
    check(servers21.list_servers, demo.get(f"{API}/servers"))
    check(servers21.list_servers_detail, demo.get(f"{API}/servers/detail"))
    latest = demo.at("2.89")
    check(servers289.get_server, latest.get(f"{API}/servers/{server_id}"))
    check(servers289.list_servers_detail, latest.get(f"{API}/servers/detail"))
    check(servers289.list_servers, latest.get(f"{API}/servers"))


def test_server_is_active_with_an_address_on_its_network(demo, image, network):
    server_id = boot(demo, image, network).get_json()["server"]["id"]
    server = demo.get(f"{API}/servers/{server_id}").get_json()["server"]
    assert server["status"] == "ACTIVE" and server["OS-EXT-STS:vm_state"] == "active"
    (address,) = server["addresses"]["private"]
    assert address["version"] == 4 and address["addr"].startswith("10.0.0.")
    ports = demo.get(f"/networking/v2.0/ports?device_id={server_id}").get_json()["ports"]
    assert len(ports) == 1 and ports[0]["device_owner"] == "compute:nova"


def test_server_create_over_cores_quota_gives_novas_message(admin, demo, image, network):
    admin.put(f"{API}/os-quota-sets/{demo.project_id}", {"quota_set": {"cores": 3}})
    assert boot(demo, image, network, flavor="3").status_code == 202  # 2 vcpus
    resp = boot(demo, image, network, flavor="3")
    assert fault(resp) == ("forbidden", 403, "Quota exceeded for cores: Requested 2, but "
                                             "already used 2 of 3 cores")


def test_server_create_over_several_quotas_lists_them_sorted(admin, demo, image, network):
    admin.put(f"{API}/os-quota-sets/{demo.project_id}",
              {"quota_set": {"instances": 0, "cores": 0}})
    resp = boot(demo, image, network)
    assert fault(resp)[2] == ("Quota exceeded for cores, instances: Requested 1, 1, but "
                              "already used 0, 0 of 0, 0 cores, instances")


def test_metadata_items_quota_is_enforced(admin, demo, image, network):
    admin.put(f"{API}/os-quota-sets/{demo.project_id}", {"quota_set": {"metadata_items": 1}})
    resp = boot(demo, image, network, metadata={"a": "1", "b": "2"})
    assert fault(resp) == ("forbidden", 403, "Maximum number of metadata items exceeds 1")


def test_unlimited_quota_never_refuses(admin, demo, image, network):
    admin.put(f"{API}/os-quota-sets/{demo.project_id}",
              {"quota_set": {"instances": -1, "cores": -1, "ram": -1}})
    for _ in range(12):
        assert boot(demo, image, network, flavor="1").status_code == 202


def test_bad_references_are_400s(demo, image, network):
    assert fault(boot(demo, "no-such-image", network)) == (
        "badRequest", 400, "Image no-such-image could not be found.")
    assert fault(boot(demo, image, network, flavor="99"))[2] == "Invalid flavorRef provided."
    assert fault(boot(demo, image, network, key_name="nokey"))[2] == \
        "Invalid key_name provided."
    resp = boot(demo, image, None, networks=[{"uuid": "nonet"}])
    assert fault(resp)[2] == "Network nonet could not be found."


def test_private_image_of_another_project_cannot_be_booted(demo, other, network):
    private = create_image(other, b"secret", visibility="private")
    assert fault(boot(demo, private, network))[2] == f"Image {private} could not be found."


def test_networks_are_required_from_2_37_and_none_means_no_port(demo, image):
    member = demo.at("2.37")
    resp = member.post(f"{API}/servers", {"server": {"name": "v", "imageRef": image,
                                                     "flavorRef": "1"}})
    assert resp.status_code == 400
    resp = member.post(f"{API}/servers", {"server": {"name": "v", "imageRef": image,
                                                     "flavorRef": "1", "networks": "none"}})
    assert resp.status_code == 202
    server = member.get(f"{API}/servers/{resp.get_json()['server']['id']}").get_json()
    assert server["server"]["addresses"] == {}


def test_port_quota_exhaustion_refuses_the_server(admin, demo, image, network):
    admin.put(f"/networking/v2.0/quotas/{demo.project_id}", {"quota": {"port": 0}})
    resp = boot(demo, image, network)
    assert fault(resp) == ("forbidden", 403, "Maximum number of ports exceeded")
    assert demo.get(f"{API}/os-quota-sets/{demo.project_id}/detail").get_json()[
        "quota_set"]["instances"]["in_use"] == 0


def test_full_subnet_puts_the_server_in_error(demo, image):
    tiny = create_network(demo, cidr="10.9.0.0/30", name="tiny")
    boot(demo, image, tiny)
    resp = boot(demo, image, tiny)
    assert resp.status_code == 202
    server = demo.get(f"{API}/servers/{resp.get_json()['server']['id']}").get_json()["server"]
    assert server["status"] == "ERROR" and "Build of instance" in server["fault"]["message"]


def test_delete_frees_quota_and_ports(demo, image, network):
    server_id = boot(demo, image, network, flavor="2").get_json()["server"]["id"]
    check(servers21.delete_server, demo.delete(f"{API}/servers/{server_id}"))
    assert demo.get(f"{API}/servers/{server_id}").status_code == 404
    usage = demo.get(f"{API}/os-quota-sets/{demo.project_id}/detail").get_json()["quota_set"]
    assert usage["instances"]["in_use"] == 0 and usage["ram"]["in_use"] == 0
    assert demo.get(f"/networking/v2.0/ports?device_id={server_id}").get_json()["ports"] == []


def test_servers_are_scoped_to_their_project(admin, demo, other, image, network):
    server_id = boot(demo, image, network).get_json()["server"]["id"]
    assert other.get(f"{API}/servers/{server_id}").status_code == 404
    assert other.get(f"{API}/servers").get_json()["servers"] == []
    assert admin.get(f"{API}/servers").get_json()["servers"] == []
    everyone = admin.get(f"{API}/servers?all_tenants=1").get_json()["servers"]
    assert [s["id"] for s in everyone] == [server_id]
    assert other.get(f"{API}/servers?all_tenants=1").status_code == 403


def test_update_renames_and_describes_a_server(demo, image, network):
    server_id = boot(demo, image, network).get_json()["server"]["id"]
    resp = demo.at("2.19").put(f"{API}/servers/{server_id}",
                               {"server": {"name": "renamed", "description": "d"}})
    assert resp.status_code == 200
    body = resp.get_json()["server"]
    assert (body["name"], body["description"]) == ("renamed", "d")


def test_multi_create_makes_numbered_servers(demo, image, network):
    resp = boot(demo, image, network, min_count=2, max_count=2)
    assert resp.status_code == 202
    names = sorted(s["name"] for s in demo.get(f"{API}/servers").get_json()["servers"])
    assert names == ["vm-1", "vm-2"]


# -- volumes: boot from volume, attachments, snapshots -----------------------

def _volume(caller, size=1, **extra) -> str:
    body = {"volume": {"size": size, **extra}}
    resp = caller.post(f"/volume/v3/{caller.project_id}/volumes", body)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return resp.get_json()["volume"]["id"]


def test_boot_from_existing_volume_attaches_it_as_root(demo, network):
    volume_id = _volume(demo, 1)
    resp = demo.post(f"{API}/servers", {"server": {
        "name": "bfv", "flavorRef": "1", "networks": [{"uuid": network}],
        "block_device_mapping_v2": [{"boot_index": 0, "uuid": volume_id,
                                     "source_type": "volume", "destination_type": "volume"}]}})
    assert resp.status_code == 202
    server_id = resp.get_json()["server"]["id"]
    server = demo.get(f"{API}/servers/{server_id}").get_json()["server"]
    assert server["image"] == ""
    assert server["os-extended-volumes:volumes_attached"] == [{"id": volume_id}]
    volume = demo.get(f"/volume/v3/volumes/{volume_id}").get_json()["volume"]
    assert volume["status"] == "in-use"
    assert volume["attachments"][0]["server_id"] == server_id
    assert volume["attachments"][0]["device"] == "/dev/vda"
    demo.delete(f"{API}/servers/{server_id}")
    assert demo.get(f"/volume/v3/volumes/{volume_id}").get_json()["volume"][
        "status"] == "available"


def test_boot_from_image_to_volume_creates_a_bootable_volume(admin, demo, image, network):
    resp = demo.post(f"{API}/servers", {"server": {
        "name": "bfi", "flavorRef": "1", "networks": [{"uuid": network}],
        "block_device_mapping_v2": [{"boot_index": 0, "uuid": image, "source_type": "image",
                                     "destination_type": "volume", "volume_size": 2,
                                     "delete_on_termination": True}]}})
    assert resp.status_code == 202
    server_id = resp.get_json()["server"]["id"]
    (attached,) = demo.get(f"{API}/servers/{server_id}").get_json()["server"][
        "os-extended-volumes:volumes_attached"]
    volume = demo.get(f"/volume/v3/volumes/{attached['id']}").get_json()["volume"]
    assert volume["bootable"] == "true" and volume["size"] == 2
    content = admin.get(f"/volume/_sim/volumes/{attached['id']}/content").get_json()
    assert content["digest"] == hashlib.sha256(b"root-disk").hexdigest()
    demo.delete(f"{API}/servers/{server_id}")
    assert demo.get(f"/volume/v3/volumes/{attached['id']}").status_code == 404


def test_boot_volume_over_cinder_quota_leaves_the_server_in_error(admin, demo, image,
                                                                  network):
    admin.put(f"/volume/v3/os-quota-sets/{demo.project_id}", {"quota_set": {"volumes": 0}})
    resp = demo.post(f"{API}/servers", {"server": {
        "name": "bfi", "flavorRef": "1", "networks": [{"uuid": network}],
        "block_device_mapping_v2": [{"boot_index": 0, "uuid": image, "source_type": "image",
                                     "destination_type": "volume", "volume_size": 1}]}})
    assert resp.status_code == 202
    server = demo.get(f"{API}/servers/{resp.get_json()['server']['id']}").get_json()["server"]
    assert server["status"] == "ERROR"
    assert "Maximum number of volumes allowed (0)" in server["fault"]["message"]


def test_boot_from_in_use_volume_is_refused(demo, image, network):
    volume_id = _volume(demo)
    server_id = boot(demo, image, network).get_json()["server"]["id"]
    demo.post(f"{API}/servers/{server_id}/os-volume_attachments",
              {"volumeAttachment": {"volumeId": volume_id}})
    resp = demo.post(f"{API}/servers", {"server": {
        "name": "x", "flavorRef": "1", "networks": [{"uuid": network}],
        "block_device_mapping_v2": [{"boot_index": 0, "uuid": volume_id,
                                     "source_type": "volume", "destination_type": "volume"}]}})
    assert resp.status_code == 400 and "in-use" in fault(resp)[2]


def test_volume_attachments_list_attach_detach_match_schemas(demo, image, network):
    server_id = boot(demo, image, network).get_json()["server"]["id"]
    volume_id = _volume(demo)
    base = f"{API}/servers/{server_id}/os-volume_attachments"
    resp = demo.post(base, {"volumeAttachment": {"volumeId": volume_id}})
    check(servers21.attach_volume, resp)
    assert resp.get_json()["volumeAttachment"]["device"] == "/dev/vdb"
    check(servers21.list_volume_attachments, demo.get(base))
    check(servers21.show_volume_attachment, demo.get(f"{base}/{volume_id}"))
    latest = demo.at("2.89")
    check(servers289.list_volume_attachments, latest.get(base))
    check(servers289.show_volume_attachment, latest.get(f"{base}/{volume_id}"))
    check(servers21.detach_volume, demo.delete(f"{base}/{volume_id}"))
    assert demo.get(f"/volume/v3/volumes/{volume_id}").get_json()["volume"][
        "status"] == "available"
    assert demo.get(f"{base}/{volume_id}").status_code == 404


def test_create_image_of_image_backed_server_gives_a_glance_snapshot(demo, image, network):
    server_id = boot(demo, image, network).get_json()["server"]["id"]
    resp = demo.post(f"{API}/servers/{server_id}/action",
                     {"createImage": {"name": "snap", "metadata": {"k": "v"}}})
    assert resp.status_code == 202
    image_id = resp.headers["Location"].rsplit("/", 1)[1]
    snap = demo.get(f"/image/v2/images/{image_id}").get_json()
    assert snap["name"] == "snap" and snap["status"] == "active"
    assert snap["image_type"] == "snapshot" and snap["instance_uuid"] == server_id
    assert snap["k"] == "v" and snap["owner"] == demo.project_id
    body = demo.at("2.45").post(f"{API}/servers/{server_id}/action",
                                {"createImage": {"name": "snap2"}})
    assert body.status_code == 202 and "image_id" in body.get_json()


def test_create_image_of_volume_backed_server_snapshots_each_volume(admin, demo, network):
    root = _volume(demo, 1)
    admin.put(f"/volume/_sim/volumes/{root}/content",
              {"data": base64.b64encode(b"disk").decode()})
    resp = demo.post(f"{API}/servers", {"server": {
        "name": "bfv", "flavorRef": "1", "networks": [{"uuid": network}],
        "block_device_mapping_v2": [{"boot_index": 0, "uuid": root, "source_type": "volume",
                                     "destination_type": "volume"}]}})
    server_id = resp.get_json()["server"]["id"]
    resp = demo.at("2.45").post(f"{API}/servers/{server_id}/action",
                                {"createImage": {"name": "bfv-snap"}})
    image_id = resp.get_json()["image_id"]
    image = demo.get(f"/image/v2/images/{image_id}").get_json()
    assert image["size"] == 0 and image["bdm_v2"] == "True"
    (mapping,) = json.loads(image["block_device_mapping"])
    assert mapping["source_type"] == "snapshot" and mapping["boot_index"] == 0
    snapshot = demo.get(f"/volume/v3/snapshots/{mapping['snapshot_id']}").get_json()["snapshot"]
    assert snapshot["volume_id"] == root and snapshot["name"] == "snapshot for bfv-snap"


def test_create_image_over_snapshot_quota_is_403(admin, demo, network):
    root = _volume(demo, 1)
    admin.put(f"/volume/v3/{ADMIN[1]}/os-quota-sets/{demo.project_id}",
              {"quota_set": {"snapshots": 0}})
    resp = demo.post(f"{API}/servers", {"server": {
        "name": "bfv", "flavorRef": "1", "networks": [{"uuid": network}],
        "block_device_mapping_v2": [{"boot_index": 0, "uuid": root, "source_type": "volume",
                                     "destination_type": "volume"}]}})
    server_id = resp.get_json()["server"]["id"]
    resp = demo.post(f"{API}/servers/{server_id}/action", {"createImage": {"name": "s"}})
    assert fault(resp) == ("forbidden", 403, "Quota exceeded for resources: snapshots")


def test_stop_and_start_change_power_state(demo, image, network):
    server_id = boot(demo, image, network).get_json()["server"]["id"]
    assert demo.post(f"{API}/servers/{server_id}/action", {"os-stop": None}).status_code == 202
    assert demo.get(f"{API}/servers/{server_id}").get_json()["server"]["status"] == "SHUTOFF"
    assert demo.post(f"{API}/servers/{server_id}/action", {"os-stop": None}).status_code == 409
    assert demo.post(f"{API}/servers/{server_id}/action", {"os-start": None}).status_code == 202
