"""Neutron's errors: one exception class carrying the status, type and message.

Neutron answers every failure with ``{"NeutronError": {"type", "message",
"detail"}}``; ``type`` is the name of the neutron-lib exception class, which some
clients match on, so each error here is raised with the real type name.
"""

from __future__ import annotations


class NeutronError(Exception):
    """A failure the API reports as ``NeutronError`` with ``status``."""

    status = 500
    type = "HTTPInternalServerError"

    def __init__(self, message: str, type_: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if type_ is not None:
            self.type = type_
        if status is not None:
            self.status = status

    def body(self) -> dict:
        return {"NeutronError": {"type": self.type, "message": self.message, "detail": ""}}


class BadRequest(NeutronError):
    status = 400
    type = "HTTPBadRequest"


class InvalidInput(NeutronError):
    """neutron-lib's InvalidInput: a 400 whose message names the operation."""

    status = 400
    type = "InvalidInput"

    def __init__(self, error: str):
        super().__init__(f"Invalid input for operation: {error}.")


class NotFound(NeutronError):
    status = 404
    type = "NotFound"


class Conflict(NeutronError):
    status = 409
    type = "Conflict"


class PolicyNotAuthorized(NeutronError):
    status = 403
    type = "PolicyNotAuthorized"

    def __init__(self, rule: str):
        super().__init__(f"({rule}) is disallowed by policy")


class OverQuota(Conflict):
    """Creating the resources would exceed the project's quota."""

    type = "OverQuota"

    def __init__(self, overs: list[str]):
        super().__init__(f"Quota exceeded for resources: {sorted(overs)}.")
        self.overs = sorted(overs)


class NoFreeIP(Conflict):
    """No address is left in the pools of the network's subnets."""

    type = "IpAddressGenerationFailure"

    def __init__(self, network_id: str):
        super().__init__(f"No more IP addresses available on network {network_id}.")


def not_found(kind: str, resource_id: str) -> NotFound:
    """The 404 Neutron gives for a missing (or invisible) resource of ``kind``."""
    labels = {
        "network": ("NetworkNotFound", f"Network {resource_id} could not be found."),
        "subnet": ("SubnetNotFound", f"Subnet {resource_id} could not be found."),
        "port": ("PortNotFound", f"Port {resource_id} could not be found."),
        "router": ("RouterNotFound", f"Router {resource_id} could not be found"),
        "floatingip": ("FloatingIPNotFound", f"Floating IP {resource_id} could not be found"),
        "security_group": ("SecurityGroupNotFound",
                           f"Security group {resource_id} does not exist"),
        "security_group_rule": ("SecurityGroupRuleNotFound",
                                f"Security group rule {resource_id} does not exist"),
    }
    type_, message = labels[kind]
    return NotFound(message, type_)
