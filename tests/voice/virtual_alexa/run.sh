#!/usr/bin/env bash
# Runs the virtual-alexa test (test.mjs) non-interactively: installs what is missing (the
# openssl command, Node.js and npm, from Debian's packages unless node/npm are already on the
# PATH from elsewhere), the pinned npm packages (npm ci), then the test.
# Usage: run.sh PARLEY SOURCE_DIR
# Exit: 0 when every check passed, 1 otherwise (a test that cannot run is a failure).
set -uo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PARLEY SOURCE_DIR" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"
parley="$(realpath "$1")" && source_dir="$(realpath "$2")" || exit 1

cannot() {
  echo "FAIL the virtual-alexa test could not run: $*"
  echo "0 passed, 1 failed"
  exit 1
}

need=()
command -v openssl >/dev/null || need+=(openssl)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  "$source_dir/tools/deps.sh" "${need[@]}" || cannot "installing ${need[*]} failed"
  hash -r
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
  cannot "Node.js 18 or later is needed, this is $(node --version)"

# npm ci again only when the lock file changed since the last install here
cd "$here" || cannot "no directory $here"
if ! cmp -s package-lock.json node_modules/.parley-installed-lock; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error </dev/null ||
    cannot "npm ci failed"
  cp package-lock.json node_modules/.parley-installed-lock
fi

node "$here/test.mjs" "$parley" "$source_dir" </dev/null
[ $? -eq 0 ] || exit 1
