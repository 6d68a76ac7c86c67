"""Neutron security groups and rules of a given project (admin API).

The service's credentials are an admin's, so every read filters on the project
and every create names it (``project_id``): the group belongs to the project
that asked for the sync, not to Kingbird's service project.
"""

from __future__ import annotations

from urllib.parse import quote

from kingbird.regions.rest import MISSING, RegionRest

# What a rule is made of, as written in a create (the rest is Neutron's bookkeeping).
RULE_FIELDS = ("direction", "ethertype", "protocol", "port_range_min", "port_range_max",
               "remote_ip_prefix", "remote_group_id", "remote_address_group_id",
               "description")


class SecurityGroups:
    def __init__(self, rest: RegionRest):
        self.rest = rest

    def _call(self, region: str, method: str, path: str, what: str, **kwargs):
        return self.rest.call(region, "network", method, path, what, **kwargs)

    def get(self, region: str, group_id: str) -> dict | None:
        """The group with this id (with its ``security_group_rules``), or None."""
        answer = self._call(region, "GET", f"/security-groups/{quote(group_id, safe='')}",
                            f"read security group {group_id}", missing_ok=True)
        return None if answer is MISSING else answer["security_group"]

    def by_name(self, region: str, project_id: str, name: str) -> list[dict]:
        """The project's groups named ``name`` (Neutron does not make names unique)."""
        answer = self._call(region, "GET", "/security-groups", f"find security group {name}",
                            params={"project_id": project_id, "name": name})
        return answer["security_groups"]

    def find(self, region: str, project_id: str, name_or_id: str) -> list[dict]:
        """The project's group with this id, else its groups with this name."""
        group = self.get(region, name_or_id)
        if group is not None and group.get("project_id", group.get("tenant_id")) == project_id:
            return [group]
        return self.by_name(region, project_id, name_or_id)

    def create(self, region: str, project_id: str, name: str, description: str) -> dict:
        body = {"security_group": {"name": name, "description": description,
                                   "project_id": project_id}}
        return self._call(region, "POST", "/security-groups",
                          f"create security group {name}", body=body)["security_group"]

    def update_description(self, region: str, group_id: str, description: str) -> None:
        self._call(region, "PUT", f"/security-groups/{quote(group_id, safe='')}",
                   f"update security group {group_id}",
                   body={"security_group": {"description": description}})

    def rules(self, region: str, group_id: str) -> list[dict]:
        answer = self._call(region, "GET", "/security-group-rules",
                            f"list rules of security group {group_id}",
                            params={"security_group_id": group_id})
        return answer["security_group_rules"]

    def create_rule(self, region: str, project_id: str, group_id: str, rule: dict) -> dict:
        body = {"security_group_rule": {**rule, "security_group_id": group_id,
                                        "project_id": project_id}}
        return self._call(region, "POST", "/security-group-rules",
                          f"create rule in security group {group_id}",
                          body=body)["security_group_rule"]

    def delete_rule(self, region: str, rule_id: str) -> None:
        self._call(region, "DELETE", f"/security-group-rules/{quote(rule_id, safe='')}",
                   f"delete security group rule {rule_id}", missing_ok=True)
