"""``kingbird network ...``: global networks and their ports."""

from __future__ import annotations

import json
import logging

from kingbird.cli import common
from kingbird.cli.common import CommandError
from kingbird.client import exceptions

LOG = logging.getLogger(__name__)

NETWORK_COLUMNS = ("ID", "Name", "CIDR", "Regions", "Status")
PORT_COLUMNS = ("Region", "Port ID", "MAC Address", "Fixed IPs", "Source", "Status",
                "Shadows", "Error")


def _regions(network) -> str:
    return ", ".join(network.regions)


def network_fields(network):
    """The rows of ``network show``: the network, then one line per region."""
    names = ["id", "name", "project_id", "cidr", "status", "error", "gateway_regions",
             "reserved_addresses"]
    values = [network.id, network.name, network.project_id, network.cidr, network.status,
              network.error or "", ", ".join(network.gateway_regions),
              network.reserved_addresses]
    if network.segmentation_id is not None:
        names.append("segmentation_id")
        values.append(network.segmentation_id)
    for region, part in network.regions.items():
        pools = ", ".join(f"{p['start']}-{p['end']}" for p in part.get("allocation_pools", []))
        names.append(f"region {region}")
        values.append(f"{part.get('status')} network={part.get('network_id')} "
                      f"subnet={part.get('subnet_id')} gateway={part.get('gateway_ip')} "
                      f"pools={pools}" + (f" error={part['error']}" if part.get("error") else ""))
    return tuple(names), tuple(values)


def parse_region_ids(values: list[str] | None, what: str) -> dict[str, str]:
    """``["RegionOne:abc", ...]`` -> ``{"RegionOne": "abc"}``.

    :raises CommandError: a value without ``region:id``.
    """
    found: dict[str, str] = {}
    for value in values or []:
        region, sep, ident = value.partition(":")
        if not sep or not region or not ident:
            raise CommandError(f"{what} must be given as <region>:<id>, got {value!r}")
        found[region] = ident
    return found


class CreateGlobalNetwork(common.ShowOne):
    _description = ("Create a global network: one L2 network (one VXLAN segment) over "
                    "several regions, its CIDR split into disjoint per-region pools")

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="<name>", nargs="?", default="",
                            help="Name of the network")
        parser.add_argument("--cidr", required=True, metavar="<cidr>",
                            help="The network's CIDR, e.g. 198.51.100.0/24")
        parser.add_argument("--region", action="append", required=True, dest="regions",
                            metavar="<region>", help="A region to span (repeat for more)")
        parser.add_argument("--gateway-region", action="append", dest="gateway_regions",
                            metavar="<region>",
                            help="A region whose subnet gets a gateway (repeat for more)")
        parser.add_argument("--reserved-addresses", type=int, metavar="<n>",
                            help="Addresses kept out of every pool, for virtual IPs")
        return parser

    def take_action(self, parsed_args):
        return network_fields(self.client.global_networks.create(
            parsed_args.cidr, parsed_args.regions, name=parsed_args.name,
            gateway_regions=parsed_args.gateway_regions or (),
            reserved_addresses=parsed_args.reserved_addresses))


class ListGlobalNetwork(common.Lister):
    _description = "List your project's global networks"

    def take_action(self, parsed_args):
        return NETWORK_COLUMNS, [(n.id, n.name, n.cidr, _regions(n), n.status)
                                 for n in self.client.global_networks.list()]


def _add_network(parser) -> None:
    parser.add_argument("network_id", metavar="<network-id>", help="The global network")


class ShowGlobalNetwork(common.ShowOne):
    _description = "Show a global network and its part in each region"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_network(parser)
        return parser

    def take_action(self, parsed_args):
        return network_fields(self.client.global_networks.get(parsed_args.network_id))


class DeleteGlobalNetwork(common.Command):
    _description = "Delete global networks (refused while they have ports)"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("network_ids", metavar="<network-id>", nargs="+",
                            help="Network(s) to delete")
        return parser

    def take_action(self, parsed_args):
        failed = 0
        for network_id in parsed_args.network_ids:
            try:
                self.client.global_networks.delete(network_id)
            except exceptions.KingbirdError as exc:
                failed += 1
                LOG.error("network %s: %s", network_id, common.describe_error(exc))
        if failed:
            raise CommandError(f"{failed} of {len(parsed_args.network_ids)} global networks "
                               "failed to delete")


def _port_row(port):
    return (port.region, port.port_id, port.mac_address, ", ".join(port.fixed_ips),
            port.source, port.status, json.dumps(port.shadows, sort_keys=True),
            port.error or "")


class ListGlobalNetworkPort(common.Lister):
    _description = "List the ports of a global network and their shadow ports"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_network(parser)
        return parser

    def take_action(self, parsed_args):
        return PORT_COLUMNS, [_port_row(p) for p in
                              self.client.global_networks.ports(parsed_args.network_id)]


class AttachGlobalNetworkPort(common.ShowOne):
    _description = "Shadow a port of a global network now (instead of at the next poll)"

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        _add_network(parser)
        parser.add_argument("port_id", metavar="<port-id>", help="The port, in its region")
        parser.add_argument("--region", required=True, metavar="<region>",
                            help="The region of the port")
        return parser

    def take_action(self, parsed_args):
        port = self.client.global_networks.attach(parsed_args.network_id, parsed_args.region,
                                                  parsed_args.port_id)
        return PORT_COLUMNS, _port_row(port)
