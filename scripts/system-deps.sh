#!/usr/bin/env bash
# Install the system packages the test suite needs when they are missing: a PostgreSQL server,
# Chromium for the widget's browser tests (Playwright drives /usr/bin/chromium; no browser download),
# php-cli with curl for the PrestaShop module's tests, and wrk (a C load generator) for the benchmarks.
set -euo pipefail
need=()
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
if ! [ -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
if ! command -v php >/dev/null 2>&1; then
  need+=(php-cli php-curl)
elif ! php -m 2>/dev/null | grep -qx curl; then
  need+=(php-curl)
fi
if ! command -v wrk >/dev/null 2>&1; then
  need+=(wrk)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing system packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
