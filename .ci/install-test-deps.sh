#!/usr/bin/env bash
# Test dependencies that do not come from npm: the real crowdsec-custom-bouncer (test/crowdsec-bouncer.test.ts)
# and wrk (bench/decisions/http-bench.ts). Installed offline from Debian by ../shared/tools; needs root, so it
# runs only when something is missing. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v crowdsec-custom-bouncer >/dev/null && command -v wrk >/dev/null; then
  exit 0
fi
installer=../shared/tools/install-crowdsec-offline.sh
if [ ! -x "$installer" ] && [ ! -f "$installer" ]; then
  echo "install-test-deps: $installer not found; the CrowdSec bouncer test will be skipped" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  bash "$installer"
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo bash "$installer"
else
  echo "install-test-deps: not root and no passwordless sudo; the CrowdSec bouncer test will be skipped" >&2
  exit 0
fi
command -v crowdsec-custom-bouncer >/dev/null || {
  echo "install-test-deps: crowdsec-custom-bouncer still missing after $installer" >&2
  exit 1
}
