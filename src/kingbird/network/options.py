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
]
