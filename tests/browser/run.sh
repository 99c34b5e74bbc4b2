#!/usr/bin/env bash
# Installs what the browser test needs when it is missing (Debian's Chromium, playwright-core)
# and runs it: the web widget and the demo page in a real headless Chromium against
# `parley serve`. Non-interactive; needs root or password-less sudo only to install Chromium.
# Usage: tests/browser/run.sh PARLEY SOURCE_DIR
# Exit status: 0 passed, 1 failed or could not run (Chromium or Node.js could not be installed).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 PARLEY SOURCE_DIR" >&2
  exit 2
fi
parley="$(realpath "$1")"
src="$(realpath "$2")"
here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive CI="${CI:-true}"

# as_root CMD...: runs CMD as root (directly, or with sudo when that needs no password)
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    echo "browser test: need root or password-less sudo to run: $*" >&2
    return 1
  fi
}

# apt_install PKG...: installs, running apt-get update first only when the install fails
apt_install() {
  as_root apt-get install -y --no-install-recommends "$@" ||
    { as_root apt-get update && as_root apt-get install -y --no-install-recommends "$@"; }
}

# A test that cannot run is a failure, not a pass: say why.
skip() {
  echo "FAIL browser test cannot run: $*"
  exit 1
}

if [ ! -x /usr/bin/chromium ]; then
  echo "browser test: installing Debian's chromium ..."
  apt_install chromium || skip "/usr/bin/chromium is missing and could not be installed"
fi

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser test: installing nodejs and npm ..."
  apt_install nodejs npm || skip "node/npm are missing and could not be installed"
fi
if [ "$(node_major)" -lt 18 ]; then
  skip "playwright-core needs Node.js 18 or newer; this is $(node --version)"
fi

cd "$here"
want="$(node -p 'require("./package.json").devDependencies["playwright-core"]')"
have="$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch { "" }')"
if [ "$have" != "$want" ]; then
  echo "browser test: installing playwright-core $want ..."
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund
  else
    npm install --no-audit --no-fund
  fi
fi

exec node browser_test.mjs "$parley" "$src"
