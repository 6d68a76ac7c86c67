"""Nova flavors, their extra specs and access lists (admin API).

Read at microversion 2.75 so that ``swap`` is a number and ``description`` and
``extra_specs`` are part of the flavor; extra specs and access lists are still
written through their own sub-resources, as every microversion requires.
"""

from __future__ import annotations

from urllib.parse import quote

from kingbird.regions.rest import MISSING, RegionRest

MICROVERSION = "2.75"
_PAGE = 1000


def _path(flavor_id: str, tail: str = "") -> str:
    return f"/flavors/{quote(flavor_id, safe='')}{tail}"


def flavor_core(flavor: dict) -> dict:
    """What defines a flavor apart from its id, extra specs and access (pure).

    Normalises the wire's variations: ``swap`` is ``""`` for none before
    microversion 2.75, ``rxtx_factor`` may be absent.
    """
    return {
        "name": flavor["name"],
        "ram": int(flavor["ram"]),
        "vcpus": int(flavor["vcpus"]),
        "disk": int(flavor["disk"]),
        "ephemeral": int(flavor.get("OS-FLV-EXT-DATA:ephemeral") or 0),
        "swap": int(flavor.get("swap") or 0),
        "rxtx_factor": float(flavor.get("rxtx_factor") or 1.0),
        "is_public": bool(flavor.get("os-flavor-access:is_public", True)),
        "description": flavor.get("description"),
    }


def create_body(core: dict, flavor_id: str) -> dict:
    """The ``POST /flavors`` body of a flavor with this core and id (pure)."""
    body = {
        "id": flavor_id, "name": core["name"], "ram": core["ram"], "vcpus": core["vcpus"],
        "disk": core["disk"], "OS-FLV-EXT-DATA:ephemeral": core["ephemeral"],
        "swap": core["swap"], "rxtx_factor": core["rxtx_factor"],
        "os-flavor-access:is_public": core["is_public"],
    }
    if core["description"] is not None:
        body["description"] = core["description"]
    return body


class Flavors:
    def __init__(self, rest: RegionRest):
        self.rest = rest

    def _call(self, region: str, method: str, path: str, what: str, **kwargs):
        return self.rest.call(region, "compute", method, path, what,
                              microversion=MICROVERSION, **kwargs)

    def get(self, region: str, flavor_id: str) -> dict | None:
        """The flavor with this id (public or private), or None."""
        answer = self._call(region, "GET", _path(flavor_id), f"read flavor {flavor_id}",
                            missing_ok=True)
        return None if answer is MISSING else answer["flavor"]

    def list_all(self, region: str) -> list[dict]:
        """Every flavor of the region, public and private, page by page."""
        flavors: list[dict] = []
        marker = None
        while True:
            params = {"is_public": "None", "limit": _PAGE}
            if marker:
                params["marker"] = marker
            page = self._call(region, "GET", "/flavors/detail", "list flavors",
                              params=params)["flavors"]
            flavors += page
            if len(page) < _PAGE:
                return flavors
            marker = page[-1]["id"]

    def find(self, region: str, name_or_id: str) -> dict | None:
        """The flavor with this id, else the one with this name, else None."""
        flavor = self.get(region, name_or_id)
        if flavor is not None:
            return flavor
        return next((f for f in self.list_all(region) if f["name"] == name_or_id), None)

    def create(self, region: str, spec: dict) -> dict:
        """Create a flavor from ``spec`` (the body of ``POST /flavors``)."""
        return self._call(region, "POST", "/flavors", f"create flavor {spec.get('name')}",
                          body={"flavor": spec})["flavor"]

    def delete(self, region: str, flavor_id: str) -> None:
        """Delete the flavor; one already gone is not an error."""
        self._call(region, "DELETE", _path(flavor_id), f"delete flavor {flavor_id}",
                   missing_ok=True)

    def extra_specs(self, region: str, flavor_id: str) -> dict[str, str]:
        return self._call(region, "GET", _path(flavor_id, "/os-extra_specs"),
                          f"read extra specs of flavor {flavor_id}")["extra_specs"]

    def set_extra_specs(self, region: str, flavor_id: str, specs: dict[str, str]) -> None:
        self._call(region, "POST", _path(flavor_id, "/os-extra_specs"),
                   f"set extra specs of flavor {flavor_id}", body={"extra_specs": specs})

    def unset_extra_spec(self, region: str, flavor_id: str, key: str) -> None:
        self._call(region, "DELETE", _path(flavor_id, f"/os-extra_specs/{quote(key, safe='')}"),
                   f"unset extra spec {key} of flavor {flavor_id}", missing_ok=True)

    def access(self, region: str, flavor_id: str) -> list[str]:
        """Projects given access to a private flavor."""
        answer = self._call(region, "GET", _path(flavor_id, "/os-flavor-access"),
                            f"read access list of flavor {flavor_id}")
        return sorted(a["tenant_id"] for a in answer["flavor_access"])

    def add_access(self, region: str, flavor_id: str, project_id: str) -> None:
        self._call(region, "POST", _path(flavor_id, "/action"),
                   f"give {project_id} access to flavor {flavor_id}",
                   body={"addTenantAccess": {"tenant": project_id}})

    def remove_access(self, region: str, flavor_id: str, project_id: str) -> None:
        self._call(region, "POST", _path(flavor_id, "/action"),
                   f"remove access of {project_id} to flavor {flavor_id}",
                   body={"removeTenantAccess": {"tenant": project_id}})
