"""The caller of a request, as Keystone described it to keystonemiddleware."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    """Identity and correlation data of one API request.

    Built once per request from the headers auth_token sets; policy checks and
    handlers read it instead of the raw headers. A token has one scope: a project
    (``project_id``), a domain (``domain_id``) or the system (``system_scope`` is
    ``all``); an unscoped token has none. ``is_admin`` is not read from the roles
    but decided by the policy (its ``admin_api`` rule), once per request.
    """

    user_id: str = ""
    project_id: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    request_id: str = ""
    auth_token: str | None = None
    domain_id: str = ""
    system_scope: str = ""
    is_admin: bool = False

    def policy_credentials(self) -> dict:
        """What oslo.policy rules match against (``system_scope`` is what its
        ``system_scope:all`` checks and its scope checks read)."""
        return {"user_id": self.user_id, "project_id": self.project_id,
                "domain_id": self.domain_id, "system_scope": self.system_scope,
                "roles": sorted(self.roles)}

    @classmethod
    def from_environ(cls, environ: dict) -> RequestContext:
        def header(name: str) -> str:
            return environ.get(name) or ""  # auth_token sets absent values to None

        roles = header("HTTP_X_ROLES")
        project_id, domain_id = header("HTTP_X_PROJECT_ID"), header("HTTP_X_DOMAIN_ID")
        # auth_token writes OpenStack-System-Scope for the user token and again for an
        # X-Service-Token: only a token scoped to nothing else can be system-scoped.
        system_scope = "" if project_id or domain_id else header("HTTP_OPENSTACK_SYSTEM_SCOPE")
        return cls(
            user_id=header("HTTP_X_USER_ID"),
            project_id=project_id,
            roles=frozenset(r.strip().lower() for r in roles.split(",") if r.strip()),
            request_id=header("openstack.request_id"),
            auth_token=environ.get("HTTP_X_AUTH_TOKEN"),
            domain_id=domain_id,
            system_scope=system_scope,
        )
