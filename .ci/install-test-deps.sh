#!/usr/bin/env bash
# Test dependencies that do not come from npm, all Debian packages: chromium (the dashboard test, driven by
# playwright-core), prometheus (its promtool checks /metrics), the real crowdsec-custom-bouncer
# (test/crowdsec-bouncer.test.ts) and wrk (bench/decisions/http-bench.ts, via ../shared/tools, which works
# around CrowdSec's offline install). Needs root; runs only what is missing. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v promtool >/dev/null || missing+=(prometheus)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-test-deps: apt-get install ${missing[*]}" >&2
  as_root apt-get update -qq || true
  # prometheus' maintainer script may try to start the service; the binary is all the tests need
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    echo "install-test-deps: could not install ${missing[*]}; the tests that need them will say they are skipped" >&2
fi
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
