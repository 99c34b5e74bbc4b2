#!/usr/bin/env bash
# Runs the `parley serve` integration tests (test_protocol.py) non-interactively, installing
# the Debian packages they need when missing: python3-websockets, curl, openssl.
# Usage: run.sh PARLEY SOURCE_DIR [TEST_NAME_SUBSTRING...]   Exit status 1 when a test failed.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PARLEY SOURCE_DIR [TEST_NAME_SUBSTRING...]" >&2; exit 2; }
parley="$(realpath "$1")"
source_dir="$(realpath "$2")"
shift 2
here="$(cd "$(dirname "$0")" && pwd)"

"$source_dir/tools/deps.sh" python3 python3-websockets curl openssl

[ -x "$parley" ] || { echo "error: $parley is not an executable" >&2; exit 1; }
if ! "$parley" serve --help >/dev/null 2>&1; then
  echo "FAIL $parley has no working 'serve' command" >&2
  exit 1
fi

# Debian's interpreter, which sees python3-websockets (a pyenv or venv python3 would not).
exec /usr/bin/python3 "$here/test_protocol.py" "$parley" "$source_dir" "$@"
