"""The ``openstack`` client plugin: ``openstack kingbird quota show`` and the rest.

python-openstackclient loads this module through the ``openstack.cli.extension``
entry point and the commands from ``openstack.kingbird.v1``. They are the classes
of ``kingbird.cli.v1``: they reach the client as ``self.app.client_manager.kingbird``
in both programs.
"""

from __future__ import annotations

import os

from kingbird.client import Client

API_NAME = "kingbird"
API_VERSION_OPTION = "os_kingbird_api_version"
DEFAULT_API_VERSION = "1"
API_VERSIONS = {"1": "kingbird.client.Client"}


def make_client(instance) -> Client:
    """The client for openstackclient's ``ClientManager`` ``instance``."""
    return Client(instance.session, region_name=instance.region_name,
                  interface=instance.interface)


def build_option_parser(parser):
    """openstackclient's global options, plus the API version of this plugin."""
    parser.add_argument(
        "--os-kingbird-api-version", metavar="<version>",
        default=os.environ.get("OS_KINGBIRD_API_VERSION", DEFAULT_API_VERSION),
        help=f"Kingbird API version, default {DEFAULT_API_VERSION} "
             "(Env: OS_KINGBIRD_API_VERSION)")
    return parser
