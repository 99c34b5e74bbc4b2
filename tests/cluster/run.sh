#!/usr/bin/env bash
# Runs the several-instances test (test_cluster.py): one redis-server and parley serve
# instances on loopback ports, with real WebSocket, HTTP and signed voice clients. Installs
# what it needs when missing: redis-server, python3-websockets, openssl.
# Usage: run.sh PARLEY SOURCE_DIR     Exit status 1 when a check failed.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 PARLEY SOURCE_DIR" >&2; exit 2; }
parley="$(realpath "$1")"
source_dir="$(realpath "$2")"
"$source_dir/tools/deps.sh" redis-server python3 python3-websockets openssl
[ -x "$parley" ] || { echo "error: $parley is not an executable" >&2; exit 1; }
# Debian's interpreter, which sees python3-websockets (a pyenv or venv python3 would not).
exec /usr/bin/python3 "$(dirname "$0")/test_cluster.py" "$parley" "$source_dir"
