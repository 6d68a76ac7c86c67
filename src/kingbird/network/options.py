"""Options of cross-region networking (``[networking]``)."""

from __future__ import annotations

from oslo_config import cfg

networking_opts = [
    cfg.DictOpt(
        "tunnel_endpoints",
        default={},
        help="region:address pairs: the VXLAN tunnel endpoint of each region, where the "
        "other regions' VTEPs reach its hypervisors. Shadow ports of a region's ports are "
        "bound to it (binding:host_id and binding:profile tunnel_ip). A region without one "
        "cannot join a global network. Example: RegionOne:192.0.2.1,RegionTwo:192.0.2.2",
    ),
    cfg.ListOpt(
        "vni_ranges",
        default=["100000:199999"],
        help="VXLAN ids (low:high ranges) Kingbird allocates to global networks. Keep them "
        "apart from the tenant VNI ranges of the regions' Neutron ([ml2_type_vxlan] "
        "vni_ranges); an id a region refuses is never offered again.",
    ),
    cfg.FloatOpt(
        "poll_interval",
        default=10.0,
        min=0.1,
        help="Seconds between two reconciliations of a global network (ports discovered, "
        "shadow ports repaired, VIPs), a cross-region security group rule or a global router. "
        "Changes made through Kingbird are reconciled at once.",
    ),
    cfg.IntOpt(
        "reserved_addresses",
        default=8,
        min=0,
        help="Addresses kept out of every region's allocation pool at the end of a global "
        "network's CIDR, from which virtual IPs are taken, when the request does not say.",
    ),
    # Per-project limits: -1 means no limit. Kingbird's own objects are not in any
    # region's quota, so without them one member could hold every VXLAN id, or fill
    # Kingbird's service project with ports, for every other project.
    cfg.IntOpt(
        "max_global_networks_per_project",
        default=20,
        min=-1,
        help="Global networks a project may hold at once (each holds a VXLAN id of "
        "vni_ranges until it is deleted); -1: no limit. Over it a POST answers 403.",
    ),
    cfg.IntOpt(
        "max_vips_per_project",
        default=50,
        min=-1,
        help="Virtual IPs a project may hold at once over all its global networks (each "
        "holds a reservation port in every region of its network); -1: no limit.",
    ),
    cfg.IntOpt(
        "max_sg_rules_per_project",
        default=100,
        min=-1,
        help="Cross-region security group rules a project may hold at once; -1: no limit.",
    ),
    cfg.IntOpt(
        "max_routers_per_project",
        default=20,
        min=-1,
        help="Global routers a project may hold at once; -1: no limit.",
    ),
    cfg.IntOpt(
        "max_service_ports_per_project",
        default=500,
        min=-1,
        help="Ports Kingbird may hold in its own service project on behalf of one project "
        "(shadow ports and VIP reservations, counted over all regions), so that no project "
        "can use up the service project's port quota for the others. A port that would "
        "exceed it is not created: its port or VIP shows the reason (ERROR) and is retried "
        "every poll; -1: no limit. Give the service project a port quota of at least this "
        "times the number of projects using global networks (or -1).",
    ),
]
