#!/usr/bin/env bash
# Installs what building and testing Sluice needs on a fresh Debian machine with Swift, when it is missing:
# SQLite's headers (GRDB links the system SQLite), OpenSSL's (SHA-256 of files) and Python 3 (the example steps).
set -euo pipefail
missing=()
# For the tests (`scripts/test.sh` passes --for-tests): headless Chromium drives the web UI, LibreOffice opens exports,
# a Python virtual environment holds schemathesis (from PyPI), which tests the API against its OpenAPI document, and
# PostgreSQL serves the shared store's tests (scripts/postgres.sh starts a throw-away server), Slurm with munge the
# Slurm executor's (scripts/slurm.sh starts a single-node cluster), iproute2 makes the workers' three hosts, xxd
# writes the hex dumps whose secrets must be masked, promtool (Debian's prometheus package) checks `/metrics`, ESLint
# the web UI's script.
if [ "${1:-}" = "--for-tests" ]; then
    command -v chromium >/dev/null || missing+=(chromium)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v slurmctld >/dev/null || missing+=(slurm-wlm)
    command -v munged >/dev/null || missing+=(munge)
    command -v ip >/dev/null || missing+=(iproute2)
    command -v openssl >/dev/null || missing+=(openssl)
    command -v xxd >/dev/null || missing+=(xxd)
    command -v promtool >/dev/null || missing+=(prometheus)
    command -v eslint >/dev/null || missing+=(eslint)
    command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
    python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
fi
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
command -v python3 >/dev/null || missing+=(python3)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
    as_root=""
    [ "$(id -u)" -eq 0 ] || as_root=sudo
    echo "installing ${missing[*]}"
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
