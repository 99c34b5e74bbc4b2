#!/usr/bin/env bash
# Installs the Debian packages parley needs to build and test, if any are missing.
# Used by tools/demo and tools/check; safe to run again (does nothing when all are there).
# With package names as arguments it installs those instead (test suites' own needs).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libyaml-dev libutf8proc-dev libcjson-dev libwebsockets-dev libcmocka-dev
  libsqlite3-dev libssl-dev libstemmer-dev libhiredis-dev libuv1-dev
  libwebsockets-evlib-uv # libwebsockets on the libuv loop that hiredis shares
  redis-server # the Redis store's tests start their own
  openssl # the command: tests sign identity tokens with it
)

[ $# -gt 0 ] && packages=("$@")
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# another apt may be running (a test suite installing its own packages): wait for its lock
$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
