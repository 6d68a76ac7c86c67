"""Every configuration option of Kingbird, registered in one place.

Options are declared next to what they configure (``kingbird.core.options`` for the
kernel, ``kingbird.<feature>.options`` for each feature) and registered on a
``ConfigOpts`` object that the entry point builds (``load_config``), never on import,
so that the API, the engine, the demo and the tests can each hold their own
configuration in one process.
"""

from __future__ import annotations

import itertools

from keystoneauth1 import loading as ks_loading
from keystonemiddleware import auth_token
from oslo_config import cfg
from oslo_policy import opts as policy_opts

from kingbird.core import options as core
from kingbird.core.options import SERVICE_CREDENTIALS_GROUP, database_url
from kingbird.identity import options as identity
from kingbird.network import options as network
from kingbird.quota import options as quota
from kingbird.quota.options import default_global_limits

__all__ = ["AUTH_TOKEN_DEFAULTS", "SERVICE_CREDENTIALS_GROUP", "database_url",
           "default_global_limits", "list_opts", "load_config", "register_opts",
           "set_library_defaults"]

# keystonemiddleware waits on Keystone without a limit unless told: a Keystone that
# hangs would hold every API thread. One try and one retry half a second later, each
# of at most http_connect_timeout seconds: a token that cannot be validated gets its 503
# within 2 x 5 + 0.5 s.
AUTH_TOKEN_DEFAULTS = {"http_connect_timeout": 5, "http_request_max_retries": 1}


# OpenStack's legacy administrator (the admin role on any project) until the operator
# turns the new defaults on (kingbird.api.policy_base): oslo.policy's own default is on.
POLICY_DEFAULTS = {"enforce_new_defaults": False}


def _groups():
    return [
        (None, core.default_opts),
        ("database", core.database_opts),
        ("api", core.api_opts),
        ("quota", quota.quota_opts),
        ("kingbird_global_limit", quota.global_limit_opts),
        ("regions", core.regions_opts),
        ("engine", core.engine_opts),
        ("coordination", core.coordination_opts),
        ("fernet", identity.fernet_opts),
        ("multisite_identity", identity.multisite_identity_opts),
        ("networking", network.networking_opts),
    ]


def set_library_defaults() -> None:
    """Kingbird's defaults for options of the libraries it configures
    (keystonemiddleware's ``[keystone_authtoken]``): applied to the library's own
    option objects, as oslo.config's ``set_defaults`` does, so that the configuration
    sample shows them too (entry point ``oslo.config.opts.defaults``)."""
    for _group, opts in auth_token.AUTH_TOKEN_OPTS:
        cfg.set_defaults(opts, **AUTH_TOKEN_DEFAULTS)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every Kingbird option (and the keystoneauth ones) on ``conf``."""
    set_library_defaults()
    for group, opts in _groups():
        conf.register_opts(opts, group=group)
    ks_loading.register_auth_conf_options(conf, SERVICE_CREDENTIALS_GROUP)
    ks_loading.register_session_conf_options(conf, SERVICE_CREDENTIALS_GROUP)
    policy_opts.set_defaults(conf, **POLICY_DEFAULTS)


def load_config(args: list[str] | None = None, config_files: list[str] | None = None,
                prog: str = "kingbird") -> cfg.ConfigOpts:
    """Build a fresh, fully registered configuration from command-line arguments."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(args or [], project="kingbird", prog=prog,
         default_config_files=config_files, validate_default_values=True)
    return conf


def list_opts():
    """Options for oslo-config-generator (namespace ``kingbird``)."""
    ks_opts = ks_loading.get_session_conf_options() + ks_loading.get_auth_common_conf_options()
    ks_opts += ks_loading.get_auth_plugin_conf_options("password")
    # oslo.policy's options with Kingbird's defaults (listed here, not under the
    # generator's oslo.policy namespace, whose sample would show oslo.policy's).
    policy = [opt for _, opts in policy_opts.list_opts() for opt in opts]
    cfg.set_defaults(policy, **POLICY_DEFAULTS)
    return [(group or "DEFAULT", list(opts)) for group, opts in _groups()] + [
        (SERVICE_CREDENTIALS_GROUP, list(itertools.chain(ks_opts))),
        ("oslo_policy", policy),
    ]
