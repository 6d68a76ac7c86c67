"""Credentials the way OpenStack users give them, turned into a ``kingbird.client.Client``.

Three ways, as with the ``openstack`` command:

- ``OS_*`` environment variables (an openrc file) or the matching ``--os-*`` options;
- ``--os-cloud NAME`` (or ``OS_CLOUD``) with a clouds.yaml, found where openstacksdk
  looks for it (``OS_CLIENT_CONFIG_FILE``, ``./clouds.yaml``, ``~/.config/openstack``);
- ``--os-token`` with ``--kingbird-url``: the token is used as is, Keystone is not
  asked. Such a token does not tell its project, so the commands that default to
  the caller's project need ``--tenant`` (or ``--os-project-id``).

The Kingbird endpoint comes from the service catalog (service type
``synchronization``) unless ``--kingbird-url`` names it.
"""

from __future__ import annotations

import argparse
import os

import openstack.config
import openstack.exceptions
from keystoneauth1 import exceptions as ksa_exc
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from kingbird.cli.common import CommandError
from kingbird.client import Client


def add_options(parser: argparse.ArgumentParser) -> None:
    """The global authentication and endpoint options, defaults from ``OS_*``."""
    openstack.config.OpenStackConfig().register_argparse_arguments(parser, [])
    # A value given here overrides the cloud's, so only the user may give one:
    # openstacksdk's defaults would beat a clouds.yaml's auth_type, interface or verify.
    parser.set_defaults(os_auth_type=os.environ.get("OS_AUTH_TYPE"),
                        os_interface=os.environ.get("OS_INTERFACE"),
                        insecure=None, collect_timing=None)
    parser.add_argument(
        "--os-token", metavar="<token>", default=os.environ.get("OS_TOKEN"),
        help="A Keystone token to use as is, with --kingbird-url (Env: OS_TOKEN)")
    parser.add_argument(
        "--kingbird-url", metavar="<url>",
        default=os.environ.get("KINGBIRD_URL") or os.environ.get("OS_KINGBIRD_URL"),
        help="The Kingbird API, e.g. http://host:8118/v1.0, instead of the catalog's "
             "'synchronization' endpoint (Env: KINGBIRD_URL)")


def _verify(options: argparse.Namespace) -> bool | str:
    if options.insecure:
        return False
    return options.os_cacert or True


def build_client(options: argparse.Namespace) -> Client:
    """A client for the global options.

    :raises CommandError: the credentials are incomplete or name an unknown cloud.
    """
    if options.os_token:
        if not options.kingbird_url:
            raise CommandError("--os-token needs --kingbird-url: a bare token carries "
                               "no service catalog to find Kingbird in")
        auth = token_endpoint.Token(options.kingbird_url, options.os_token)
        session = ks_session.Session(auth=auth, verify=_verify(options))
        return Client(session, endpoint=options.kingbird_url,
                      project_id=options.os_project_id)
    try:
        region = openstack.config.OpenStackConfig().get_one(argparse=_sdk_options(options))
    except openstack.exceptions.ConfigException as exc:
        raise CommandError(str(exc)) from exc
    except ksa_exc.MissingRequiredOptions as exc:
        missing = ", ".join("--os-" + opt.dest.replace("_", "-") for opt in exc.options)
        raise CommandError(
            f"missing credentials ({missing}): source an openrc file, or use "
            "--os-cloud, or --os-token with --kingbird-url") from exc
    except ksa_exc.ClientException as exc:
        raise CommandError(f"cannot use these credentials: {exc}") from exc
    return Client(region.get_session(), endpoint=options.kingbird_url,
                  region_name=region.get_region_name() or None,
                  interface=region.get_interface() or "public")


def _sdk_options(options: argparse.Namespace) -> argparse.Namespace:
    """The options openstacksdk understands: its own, not cliff's or ours."""
    own = {"os_token", "kingbird_url", "debug", "verbose_level", "log_file",
           "deferred_help"}
    return argparse.Namespace(**{k: v for k, v in vars(options).items() if k not in own})


class ClientManager:
    """What commands reach as ``self.app.client_manager``, as in the ``openstack`` client.

    The client is built on first use, so ``help`` and ``complete`` need no credentials.
    """

    def __init__(self, options: argparse.Namespace):
        self._options = options
        self._kingbird: Client | None = None

    @property
    def kingbird(self) -> Client:
        if self._kingbird is None:
            self._kingbird = build_client(self._options)
        return self._kingbird
