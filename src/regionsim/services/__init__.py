"""The simulated OpenStack services.

Each module exposes the same small contract, which ``regionsim.app`` relies on:

- ``NAME``: the key of its state in ``Region.services`` (``nova``, ...);
- ``State``: its per-region state, built as ``State(region)``;
- ``bp``: a Flask blueprint with the service's routes under its path prefix;
- ``PUBLIC_PATHS``: paths served without a token (version documents);
- ``CATALOG``: ``(service_type, service_name, path)`` entries to register in
  Keystone, the path appended to the region's base URL.
"""

from regionsim.services import cinder, glance, neutron, nova

ALL = (nova, neutron, cinder, glance)
