#!/usr/bin/env bash
# Runs the voice audio test (test_audio.py) non-interactively, installing what it needs with
# tools/deps.sh (Debian 12 package names): espeak-ng (the SSML speech synthesizer), sox (stat,
# resampling), pocketsphinx (pocketsphinx_continuous) and pocketsphinx-en-us (its US English
# acoustic model and dictionary), and, for parley serve with signed requests as in
# ../test_alexa.py, python3-websockets and the openssl command.
# Usage: run.sh PARLEY SOURCE_DIR [--keep DIR]   (DIR: keep the SSML and WAV files there)
# Exits 0 when every check passed, 1 otherwise; a test that cannot run is a failure.
set -uo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PARLEY SOURCE_DIR [--keep DIR]" >&2; exit 2; }
parley="$(realpath "$1")" source_dir="$(realpath "$2")"
shift 2
if ! "$source_dir/tools/deps.sh" python3 python3-websockets openssl \
        espeak-ng sox pocketsphinx pocketsphinx-en-us; then
    echo "FAIL: the packages the audio test needs could not be installed"
    echo "0 passed, 1 failed"
    exit 1
fi
/usr/bin/python3 "$(dirname "$0")/test_audio.py" "$parley" "$source_dir" "$@"
[ $? -eq 0 ] || exit 1
