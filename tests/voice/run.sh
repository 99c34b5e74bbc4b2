#!/usr/bin/env bash
# Runs the voice webhook tests (test_alexa.py) non-interactively, installing what they need:
# Debian's python3-websockets and the openssl command (it makes the test CA and signs).
# Usage: run.sh PARLEY SOURCE_DIR [--requests N]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PARLEY SOURCE_DIR [--requests N]" >&2; exit 2; }
parley="$(realpath "$1")" source_dir="$(realpath "$2")"
shift 2
"$source_dir/tools/deps.sh" python3 python3-websockets openssl
exec /usr/bin/python3 "$(dirname "$0")/test_alexa.py" "$parley" "$source_dir" "$@"
