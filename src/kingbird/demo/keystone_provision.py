"""Idempotent identity provisioning through Keystone's v3 API, as admin.

The demo runs these on every start, including a restart on a state directory
that already holds everything: each ``ensure_*`` looks first and only creates or
corrects what differs, so a second run changes nothing and never duplicates.
Raw REST through a keystoneauth1 adapter pinned to the node's URL keeps them
working before the catalog holds any identity endpoint (the node registers its
own endpoint with them).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session

INTERFACES = ("public", "internal", "admin")


def _q(value: str) -> str:
    return quote(value, safe="")


class Provisioner:
    """Create-if-missing helpers for regions, services, endpoints, roles, projects, users.

    :param session: a keystoneauth1 session authenticated with the admin role.
    :param identity_url: the Keystone v3 URL to talk to (``.../v3``); also the URL
        that :meth:`register_identity_everywhere` puts in the catalog.

    Errors of the API surface as keystoneauth1 exceptions
    (``keystoneauth1.exceptions.http.*``).
    """

    def __init__(self, session: ks_session.Session, identity_url: str):
        self.identity_url = identity_url.rstrip("/")
        self._api = ks_adapter.Adapter(session, endpoint_override=self.identity_url)

    def _list(self, path: str, key: str, **filters: str) -> list[dict]:
        return self._api.get(path, params=filters).json()[key]

    def _one(self, path: str, key: str, what: str, **filters: str) -> dict | None:
        found = self._list(path, key, **filters)
        if len(found) > 1:
            raise LookupError(f"{len(found)} {what} match {filters}; expected at most one")
        return found[0] if found else None

    def ensure_region(self, region_id: str, description: str = "") -> str:
        """Create region ``region_id`` unless it exists.

        :returns: the region id (the name given).
        """
        try:
            self._api.get(f"/regions/{_q(region_id)}")
        except ks_exc.NotFound:
            try:
                self._api.post("/regions", json={
                    "region": {"id": region_id, "description": description}})
            except ks_exc.Conflict:  # created meanwhile by someone else
                pass
        return region_id

    def ensure_service(self, service_type: str, name: str) -> str:
        """Create the service of this type and name unless it exists.

        :returns: the service id.
        """
        for service in self._list("/services", "services", type=service_type):
            if service.get("name") == name:
                return service["id"]
        body = {"service": {"type": service_type, "name": name, "enabled": True}}
        return self._api.post("/services", json=body).json()["service"]["id"]

    def _service_id(self, service_type: str, service_name: str | None) -> str:
        if service_name is not None:
            return self.ensure_service(service_type, service_name)
        services = self._list("/services", "services", type=service_type)
        if len(services) != 1:
            raise LookupError(f"{len(services)} services of type {service_type!r}; "
                              "create one first or pass service_name")
        return services[0]["id"]

    def ensure_endpoint(self, service_type: str, region: str, url: str,
                        interfaces: Iterable[str] = INTERFACES,
                        service_name: str | None = None) -> dict[str, str]:
        """Give the service one enabled endpoint at ``url`` per interface in ``region``.

        An existing endpoint with another URL is updated in place (a restarted
        node may have a new port), never duplicated. The region is created if
        missing.

        :param service_name: which service of the type; when given the service
            is created if missing, when None exactly one must exist.
        :returns: endpoint id by interface.
        :raises LookupError: no or several services of the type (service_name None).
        """
        service_id = self._service_id(service_type, service_name)
        self.ensure_region(region)
        existing = {e["interface"]: e for e in self._list(
            "/endpoints", "endpoints", service_id=service_id, region_id=region)}
        ids = {}
        for interface in interfaces:
            endpoint = existing.get(interface)
            if endpoint is None:
                body = {"endpoint": {"service_id": service_id, "region_id": region,
                                     "interface": interface, "url": url, "enabled": True}}
                endpoint = self._api.post("/endpoints", json=body).json()["endpoint"]
            elif endpoint["url"] != url or not endpoint.get("enabled", True):
                body = {"endpoint": {"url": url, "enabled": True}}
                self._api.patch(f"/endpoints/{endpoint['id']}", json=body)
            ids[interface] = endpoint["id"]
        return ids

    def register_identity_everywhere(self, regions: Iterable[str],
                                     service_name: str = "keystone") -> None:
        """Put ``identity_url`` in the catalog of every region of ``regions``.

        A client scoped to any of these regions then finds identity in its
        catalog (openstacksdk and keystoneauth filter the catalog by region).
        """
        for region in regions:
            self.ensure_endpoint("identity", region, self.identity_url,
                                 service_name=service_name)

    def ensure_role(self, name: str) -> str:
        """Create the (global) role unless it exists.

        :returns: the role id.
        """
        role = self._one("/roles", "roles", "roles", name=name)
        if role is None:
            role = self._api.post("/roles", json={"role": {"name": name}}).json()["role"]
        return role["id"]

    def domain_id(self, name: str) -> str:
        """Id of the domain named ``name`` (``Default`` is ``default``).

        :raises LookupError: no such domain.
        """
        domain = self._one("/domains", "domains", "domains", name=name)
        if domain is None:
            raise LookupError(f"no domain named {name!r}")
        return domain["id"]

    def ensure_project(self, name: str, domain: str = "Default", description: str = "") -> str:
        """Create the project in ``domain`` (a name) unless it exists.

        :returns: the project id.
        """
        domain_id = self.domain_id(domain)
        project = self._one("/projects", "projects", "projects", name=name,
                            domain_id=domain_id)
        if project is None:
            body = {"project": {"name": name, "domain_id": domain_id,
                                "description": description, "enabled": True}}
            project = self._api.post("/projects", json=body).json()["project"]
        return project["id"]

    def _password_works(self, user_id: str, password: str) -> bool:
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"id": user_id, "password": password}}}}}
        answer = self._api.post("/auth/tokens?nocatalog", json=body,
                                authenticated=False, raise_exc=False)
        return answer.status_code == 201

    def ensure_user(self, name: str, password: str, project: str, role: str = "member",
                    domain: str = "Default") -> str:
        """Make user ``name`` exist with ``password`` and ``role`` on ``project``.

        The project and role are ensured too, and the project becomes the user's
        default on creation. The password of an existing user is checked by
        authenticating and changed only when it fails: a password change
        revokes the user's tokens, which a demo restart must not do.

        :returns: the user id.
        """
        domain_id = self.domain_id(domain)
        project_id = self.ensure_project(project, domain)
        role_id = self.ensure_role(role)
        user = self._one("/users", "users", "users", name=name, domain_id=domain_id)
        if user is None:
            body = {"user": {"name": name, "password": password, "domain_id": domain_id,
                             "default_project_id": project_id, "enabled": True}}
            user = self._api.post("/users", json=body).json()["user"]
        elif not self._password_works(user["id"], password):
            self._api.patch(f"/users/{user['id']}", json={"user": {"password": password}})
        # PUT is idempotent: an existing assignment answers 204 as well.
        self._api.put(f"/projects/{project_id}/users/{user['id']}/roles/{role_id}")
        return user["id"]
