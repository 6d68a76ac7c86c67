"""The caller of a request, as Keystone described it to keystonemiddleware."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    """Identity and correlation data of one API request.

    Built once per request from the headers auth_token sets; policy checks and
    handlers read it instead of the raw headers.
    """

    user_id: str = ""
    project_id: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    request_id: str = ""
    auth_token: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def policy_credentials(self) -> dict:
        """What oslo.policy rules match against."""
        return {"user_id": self.user_id, "project_id": self.project_id,
                "roles": sorted(self.roles)}

    @classmethod
    def from_environ(cls, environ: dict) -> RequestContext:
        roles = environ.get("HTTP_X_ROLES", "")
        return cls(
            user_id=environ.get("HTTP_X_USER_ID", ""),
            project_id=environ.get("HTTP_X_PROJECT_ID", ""),
            roles=frozenset(r.strip().lower() for r in roles.split(",") if r.strip()),
            request_id=environ.get("openstack.request_id", ""),
            auth_token=environ.get("HTTP_X_AUTH_TOKEN"),
        )
