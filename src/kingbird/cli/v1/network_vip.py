"""``kingbird network vip ...``: virtual IPs of global networks."""

from __future__ import annotations

import json

from kingbird.cli import common
from kingbird.cli.common import CommandError

VIP_COLUMNS = ("ID", "IP Address", "Ports", "Status", "Error")


def _ports_text(vip) -> str:
    return ", ".join(f"{p['region']}:{p['port_id']}" for p in vip.ports)


def _fields(vip):
    return (("id", "ip_address", "ports", "reservations", "status", "error"),
            (vip.id, vip.ip_address, _ports_text(vip), json.dumps(vip.reservations,
                                                                   sort_keys=True),
             vip.status, vip.error or ""))


def parse_ports(values: list[str] | None) -> list[dict[str, str]]:
    """``["RegionOne:port-id", ...]`` -> ``[{"region", "port_id"}, ...]``."""
    ports = []
    for value in values or []:
        region, sep, port_id = value.partition(":")
        if not sep or not region or not port_id:
            raise CommandError(f"--port must be given as <region>:<port-id>, got {value!r}")
        ports.append({"region": region, "port_id": port_id})
    return ports


def _add_ids(parser, vip: bool = True) -> None:
    parser.add_argument("network_id", metavar="<network-id>", help="The global network")
    if vip:
        parser.add_argument("vip_id", metavar="<vip-id>", help="The virtual IP")


def _add_ports(parser, required: bool) -> None:
    parser.add_argument("--port", action="append", dest="ports", required=required,
                        metavar="<region>:<port-id>",
                        help="A port allowed to answer for the VIP (repeat for more)")


class CreateGlobalNetworkVip(common.ShowOne):
    _description = ("Reserve a virtual IP on a global network and allow it on ports of "
                    "several regions (VRRP or a gratuitous ARP then moves it)")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_ids(parser, vip=False)
        _add_ports(parser, required=True)
        parser.add_argument("--ip-address", metavar="<address>",
                            help="The address (default: the next reserved one)")
        return parser

    def take_action(self, parsed_args):
        return _fields(self.client.global_networks.create_vip(
            parsed_args.network_id, parse_ports(parsed_args.ports), parsed_args.ip_address))


class ListGlobalNetworkVip(common.Lister):
    _description = "List the virtual IPs of a global network"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_ids(parser, vip=False)
        return parser

    def take_action(self, parsed_args):
        return VIP_COLUMNS, [(v.id, v.ip_address, _ports_text(v), v.status, v.error or "")
                             for v in self.client.global_networks.vips(parsed_args.network_id)]


class ShowGlobalNetworkVip(common.ShowOne):
    _description = "Show a virtual IP"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_ids(parser)
        return parser

    def take_action(self, parsed_args):
        return _fields(self.client.global_networks.get_vip(parsed_args.network_id,
                                                           parsed_args.vip_id))


class SetGlobalNetworkVip(common.ShowOne):
    _description = "Change the ports allowed to answer for a virtual IP"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_ids(parser)
        _add_ports(parser, required=True)
        return parser

    def take_action(self, parsed_args):
        return _fields(self.client.global_networks.update_vip(
            parsed_args.network_id, parsed_args.vip_id, parse_ports(parsed_args.ports)))


class DeleteGlobalNetworkVip(common.Command):
    _description = "Release a virtual IP"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_ids(parser)
        return parser

    def take_action(self, parsed_args):
        self.client.global_networks.delete_vip(parsed_args.network_id, parsed_args.vip_id)
