"""``kingbird network rule ...`` (cross-region security group rules) and
``kingbird network router ...`` (the L3 option)."""

from __future__ import annotations

from kingbird.cli import common
from kingbird.cli.common import CommandError
from kingbird.cli.v1.network import parse_region_ids

RULE_COLUMNS = ("ID", "Region", "Security Group", "Direction", "Protocol", "Ports",
                "Remote Region", "Remote Group", "Status")
ROUTER_COLUMNS = ("ID", "Name", "Subnets", "Status")


def _ports(rule) -> str:
    if rule.port_range_min is None:
        return ""
    return f"{rule.port_range_min}:{rule.port_range_max}"


def _rule_fields(rule):
    return (("id", "region", "security_group_id", "direction", "ethertype", "protocol",
             "port_range", "remote_region", "remote_group_id", "expanded", "status", "error"),
            (rule.id, rule.region, rule.security_group_id, rule.direction, rule.ethertype,
             rule.protocol or "", _ports(rule), rule.remote_region, rule.remote_group_id,
             ", ".join(rule.expanded), rule.status, rule.error or ""))


def _port_range(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    low, _, high = text.partition(":")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise CommandError(f"--port-range must be <min>[:<max>], got {text!r}") from None


class CreateGlobalSecurityGroupRule(common.ShowOne):
    _description = ("Create a security group rule whose remote group is in another region "
                    "(kept expanded into one CIDR rule per member address)")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--region", required=True, metavar="<region>",
                            help="Region of the security group the rule is added to")
        parser.add_argument("--security-group", required=True, metavar="<group-id>",
                            help="The security group the rule is added to")
        parser.add_argument("--direction", choices=("ingress", "egress"), default="ingress",
                            help="Traffic direction (default ingress)")
        parser.add_argument("--ethertype", choices=("IPv4", "IPv6"), default="IPv4",
                            help="IP version (default IPv4)")
        parser.add_argument("--protocol", metavar="<protocol>", help="tcp, udp, icmp, ...")
        parser.add_argument("--port-range", metavar="<min>[:<max>]",
                            help="Destination port range (with --protocol)")
        parser.add_argument("--remote-region", required=True, metavar="<region>",
                            help="Region of the remote group")
        parser.add_argument("--remote-group", required=True, metavar="<group-id>",
                            help="The remote group whose members the rule allows")
        return parser

    def take_action(self, parsed_args):
        low, high = _port_range(parsed_args.port_range)
        return _rule_fields(self.client.global_sg_rules.create(
            parsed_args.region, parsed_args.security_group, parsed_args.direction,
            parsed_args.remote_region, parsed_args.remote_group,
            ethertype=parsed_args.ethertype, protocol=parsed_args.protocol,
            port_range_min=low, port_range_max=high))


class ListGlobalSecurityGroupRule(common.Lister):
    _description = "List your project's cross-region security group rules"

    def take_action(self, parsed_args):
        return RULE_COLUMNS, [(r.id, r.region, r.security_group_id, r.direction,
                               r.protocol or "any", _ports(r), r.remote_region,
                               r.remote_group_id, r.status)
                              for r in self.client.global_sg_rules.list()]


class ShowGlobalSecurityGroupRule(common.ShowOne):
    _description = "Show a cross-region security group rule and its expansion"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("rule_id", metavar="<rule-id>", help="The rule")
        return parser

    def take_action(self, parsed_args):
        return _rule_fields(self.client.global_sg_rules.get(parsed_args.rule_id))


class DeleteGlobalSecurityGroupRule(common.Command):
    _description = "Delete a cross-region security group rule and its CIDR rules"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("rule_id", metavar="<rule-id>", help="The rule")
        return parser

    def take_action(self, parsed_args):
        self.client.global_sg_rules.delete(parsed_args.rule_id)


def _router_fields(router):
    names = ["id", "name", "status", "error", "transit"]
    transit = router.transit_network_id or ", ".join(
        f"{r}:{n}" for r, n in sorted(router.transit_networks.items()))
    values = [router.id, router.name, router.status, router.error or "", transit]
    for region, subnet in sorted(router.subnets.items()):
        site = router.regions.get(region, {})
        routes = ", ".join(f"{r['destination']} via {r['nexthop']}"
                           for r in site.get("routes", []))
        names.append(f"region {region}")
        values.append(f"subnet={subnet} cidr={site.get('cidr')} router={site.get('router_id')}"
                      f" transit_ip={site.get('transit_ip')} routes=[{routes}]")
    return tuple(names), tuple(values)


class CreateGlobalRouter(common.ShowOne):
    _description = ("Create a router in each region with routes to the other regions' "
                    "subnets through a transit network (L3 option)")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="<name>", nargs="?", default="",
                            help="Name of the global router")
        parser.add_argument("--subnet", action="append", required=True, dest="subnets",
                            metavar="<region>:<subnet-id>",
                            help="The subnet to route in a region (repeat, two or more)")
        transit = parser.add_mutually_exclusive_group(required=True)
        transit.add_argument("--transit-network", metavar="<global-network-id>",
                             help="A global network spanning the regions, as transit")
        transit.add_argument("--transit", action="append", dest="transits",
                             metavar="<region>:<network-id>",
                             help="The transit network of a region (repeat per region)")
        return parser

    def take_action(self, parsed_args):
        return _router_fields(self.client.global_routers.create(
            parse_region_ids(parsed_args.subnets, "--subnet"),
            transit_network_id=parsed_args.transit_network,
            transit_networks=parse_region_ids(parsed_args.transits, "--transit"),
            name=parsed_args.name))


class ListGlobalRouter(common.Lister):
    _description = "List your project's global routers"

    def take_action(self, parsed_args):
        return ROUTER_COLUMNS, [
            (r.id, r.name, ", ".join(f"{k}:{v}" for k, v in sorted(r.subnets.items())),
             r.status) for r in self.client.global_routers.list()]


class ShowGlobalRouter(common.ShowOne):
    _description = "Show a global router: each region's router, transit address, routes"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("router_id", metavar="<router-id>", help="The global router")
        return parser

    def take_action(self, parsed_args):
        return _router_fields(self.client.global_routers.get(parsed_args.router_id))


class DeleteGlobalRouter(common.Command):
    _description = "Delete a global router (its routers, interfaces and routes)"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("router_id", metavar="<router-id>", help="The global router")
        return parser

    def take_action(self, parsed_args):
        self.client.global_routers.delete(parsed_args.router_id)
