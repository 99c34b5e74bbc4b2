#!/usr/bin/env bash
# The voice renderer's SSML checked by a real XML parser: runs the unit test program test_ssml
# with PL_SSML_OUT set, so that it writes every SSML it renders to a directory, then checks each
# file with xmllint (Debian's libxml2-utils, installed if missing): well-formed XML, <speak> as
# the root, no elements but <speak>, <break> and <say-as>, and at most 8000 bytes (Alexa's limit
# for outputSpeech is 8000 characters).
#
# usage: ssml_wellformed.sh TEST_SSML_BINARY SOURCE_DIR
#
# Prints "FAIL FILE: why" per bad file and ends with "N checked, N failed".
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 TEST_SSML_BINARY SOURCE_DIR" >&2
    exit 2
fi
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
src=$2
if [ ! -x "$bin" ]; then
    echo "$0: $bin is not an executable" >&2
    exit 2
fi

bash "$src/tools/deps.sh" libxml2-utils || {
    echo "$0: xmllint is needed and libxml2-utils could not be installed" >&2
    exit 1
}

work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT
mkdir "$work/ssml"
if ! PL_SSML_OUT=$work/ssml PL_SOURCE_DIR=$src "$bin" >"$work/unit.log" 2>&1; then
    cat "$work/unit.log"
    echo "FAIL: $bin failed" >&2
    exit 1
fi

checked=0
failed=0
bad=0
fail() {
    echo "FAIL $(basename "$1"): $2"
    echo "     $(head -c 300 "$1")"
    bad=1
}
for f in "$work"/ssml/*.ssml; do
    [ -e "$f" ] || break
    checked=$((checked + 1))
    bad=0
    if ! err=$(xmllint --noout "$f" 2>&1); then
        fail "$f" "not well-formed: $err"
        failed=$((failed + 1))
        continue
    fi
    root=$(xmllint --xpath 'name(/*)' "$f" 2>&1)
    [ "$root" = speak ] || fail "$f" "the root is '$root', not speak"
    others=$(xmllint --xpath 'count(//*[not(self::speak or self::break or self::say-as)])' "$f" 2>&1)
    [ "$others" = 0 ] || fail "$f" "$others elements other than speak, break and say-as"
    size=$(wc -c <"$f")
    [ "$size" -le 8000 ] || fail "$f" "$size bytes, more than 8000"
    failed=$((failed + bad))
done

echo "$checked checked, $failed failed"
[ "$checked" -gt 0 ] || { echo "FAIL: test_ssml wrote no SSML to PL_SSML_OUT" >&2; exit 1; }
[ "$failed" -eq 0 ]
