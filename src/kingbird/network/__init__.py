"""Cross-region networking for VNF high availability: pure logic.

Nothing in this package does I/O. ``addressing`` splits one CIDR into disjoint
per-region pools and picks virtual IPs; ``segments`` allocates VXLAN ids;
``shadows`` plans the shadow ports that make a port of one region known to the
others; ``vips`` plans allowed address pairs; ``secgroups`` expands a remote
group of another region into CIDR rules; ``routes`` plans the L3 option's
routes. The engine (``kingbird.engine.network_*``) reads the regions, asks these
modules what to do, and does it.
"""
