#!/usr/bin/env bash
# Installs the Debian packages `make test` and `make run` need, only when missing.
# Idempotent: on a machine that has them it installs nothing and prints nothing.
set -euo pipefail

need=()

# venv + pip for the interpreter the Makefile uses (Debian's python3 splits them out).
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3
if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need+=("python3-venv")
fi

# PostgreSQL server binaries: the migration and scale-out tests use the machine's
# PostgreSQL when it runs, else start a private one in a temporary directory.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=("postgresql")
fi

# redis-server: the coordination tests start a private one (tooz's Redis backend).
command -v redis-server >/dev/null 2>&1 || need+=("redis-server")

# curl: the user guide's examples (and a test that runs them verbatim) use it.
command -v curl >/dev/null 2>&1 || need+=("curl")

# iproute2 (ip, bridge): the cross-region networking data-plane test builds network
# namespaces, bridges and VXLAN devices with it (as root; skipped otherwise).
{ command -v ip && command -v bridge; } >/dev/null 2>&1 || need+=("iproute2")

if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
