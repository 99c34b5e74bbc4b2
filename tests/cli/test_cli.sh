#!/usr/bin/env bash
# Runs the real `parley` binary as a user would: help texts, usage errors and exit codes,
# `chat --json` fields, `test` failures with their line, and a short `bench`.
# Usage: test_cli.sh PARLEY SOURCE_DIR
set -u
parley="$1"
cd "$2" || exit 2
bot=dialogs/camera-shop.en.yaml
passed=0 failed=0
out=$(mktemp)
state_dir=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$state_dir"' EXIT

# check NAME EXPECTED_STATUS PATTERN -- COMMAND...: runs COMMAND (stdin from /dev/null unless
# STDIN is set), wants its exit status and a line of its output matching PATTERN.
check() {
  local name="$1" want="$2" pattern="$3"
  shift 4
  local status
  if [ -n "${STDIN:-}" ]; then
    printf '%s' "$STDIN" | "$@" >"$out" 2>&1; status=$?
  else
    "$@" </dev/null >"$out" 2>&1; status=$?
  fi
  if [ "$status" -eq "$want" ] && grep -qE -- "$pattern" "$out"; then
    echo "ok $name"; passed=$((passed + 1))
  else
    echo "FAIL $name: status $status (want $want), output:"; sed 's/^/    /' "$out" | head -20
    echo "    (wanted a line matching: $pattern)"; failed=$((failed + 1))
  fi
}

check help 0 '^usage: parley COMMAND' -- "$parley" --help
check no-command 2 '^usage: parley' -- "$parley"
check unknown-command 2 "unknown command 'frobnicate'" -- "$parley" frobnicate
for cmd in lint chat test; do
  check "$cmd-help" 0 "^usage: parley $cmd" -- "$parley" "$cmd" --help
  check "$cmd-unknown-option" 2 "parley $cmd: unknown option '--nope'" -- "$parley" "$cmd" --nope "$bot"
done
check bench-help 0 '^usage: parley bench turns' -- "$parley" bench --help
check bench-unknown 2 "unknown benchmark 'walk'" -- "$parley" bench walk "$bot"
check lint-no-file 2 'no file given' -- "$parley" lint
check lint-missing-file 1 'cannot open file: no such file' -- "$parley" lint does/not/exist.yaml
check lint-clean 0 '^0 errors, 0 warnings in 1 file$' -- "$parley" lint "$bot"
check lint-strict-warning 1 'warning: intent .* is not used' -- "$parley" lint --strict tests/fixtures/bad/unused-intent.yaml
check lint-warning-passes 0 '^0 errors, 1 warning in 1 file$' -- "$parley" lint tests/fixtures/bad/unused-intent.yaml
check chat-bad-channel 2 "unknown channel 'fax'" -- "$parley" chat --channel fax "$bot"
check chat-broken-bot 1 'parley chat: the bot has errors; fix them first' -- "$parley" chat tests/fixtures/bad/unknown-intent-trigger.yaml
STDIN=$'I am looking for a camera\n' check chat-json-fields 0 \
  '^\{"intent":"buy_camera","confidence":[0-9.]+,"intents":\[\{"intent":"buy_camera","score":[0-9.]+\}.*"flow":"find_camera","step":"#2","slots":\{\},"messages":\[\{"type":"capabilities","text":"I am .*automated.*"capabilities":\{"bot":\{"id":"camera-shop-en"' \
  -- "$parley" chat --json "$bot"
STDIN=$'bad \xff byte\nhello\n' check chat-json-refuses-bad-utf8-and-goes-on 0 \
  '"code":"PL_EINVAL","message":"message is not valid UTF-8"' -- "$parley" chat --json "$bot"
STDIN=$'hello\n' check chat-voice-variant 0 "^bot> Welcome to the Lumen Camera Shop! What would you like to do\\?" \
  -- "$parley" chat --channel voice "$bot"
STDIN=$'/wait 30d\n/channel app\n/state\n/quit\n' check chat-commands 0 '^\(now on app\)$' -- "$parley" chat "$bot"
STDIN=$'hello\n' check chat-voice-spoken-disclosure 0 "^bot> I am the Lumen Camera Shop assistant, an automated program, not a person\\. I can " \
  -- "$parley" chat --channel voice "$bot"
STDIN=$'hello\nI want to talk to a person\n' check chat-json-handoff 0 \
  '"type":"handoff".*"handoff":\{"at":[0-9]+,"channel":"web","from":"human"\}' -- "$parley" chat --json "$bot"
check test-passes 0 '^[0-9]+ passed, 0 failed$' -- "$parley" test "$bot" dialogs/camera-shop.en.test.yaml
check test-fails-with-line 1 '^  tests/cli/failing.test.yaml:7:25: turn 1 \("hello"\): expected the reply to contain' \
  -- "$parley" test "$bot" tests/cli/failing.test.yaml
check test-broken-file 2 "unknown key 'turnz' in a conversation \(did you mean 'turns'\?\)" \
  -- "$parley" test "$bot" tests/cli/broken.test.yaml
check test-broken-bot 2 'the bot has errors' -- "$parley" test tests/fixtures/bad/unknown-intent-trigger.yaml dialogs/camera-shop.en.test.yaml

# Conversation tests on a store: channel switches keep the customer, `store: sqlite` with
# `restart: true` keeps slots and offers, and the temporary SQLite files are removed after.
mkdir -p "$state_dir/tmp"
check test-store-channel-switch 0 '^PASS switching channel keeps the customer and the slots$' \
  -- env TMPDIR="$state_dir/tmp" "$parley" test "$bot" tests/cli/stores.test.yaml
check test-store-sqlite-restart 0 '^PASS slots and offers survive a restart$' \
  -- env TMPDIR="$state_dir/tmp" "$parley" test "$bot" tests/cli/stores.test.yaml
check test-store-sqlite-removed 0 '^0$' -- bash -c 'ls -A "$1" | wc -l' _ "$state_dir/tmp"
check test-store-cannot-open 1 '^  tests/cli/stores.test.yaml:24:12: cannot make a temporary directory for the store in /nonexistent/dir' \
  -- env TMPDIR=/nonexistent/dir "$parley" test "$bot" tests/cli/stores.test.yaml
check test-restart-needs-sqlite 2 "^tests/cli/broken-store.test.yaml:8:9: error: 'restart' needs 'store: sqlite' in this conversation$" \
  -- "$parley" test "$bot" tests/cli/broken-store.test.yaml
check test-one-action-per-turn 2 "^tests/cli/broken-store.test.yaml:14:9: error: a turn has one of 'user', 'accept' or 'decline', not several$" \
  -- "$parley" test "$bot" tests/cli/broken-store.test.yaml
check test-bad-offer-status 2 "^tests/cli/broken-store.test.yaml:17:31: error: an offer's status must be open, accepted, declined, expired, withdrawn or none$" \
  -- "$parley" test "$bot" tests/cli/broken-store.test.yaml
check test-bad-offer-terms 2 "^tests/cli/broken-store.test.yaml:18:51: error: unknown key 'valid_untill' in offer terms \(did you mean 'valid_until'\?\)$" \
  -- "$parley" test "$bot" tests/cli/broken-store.test.yaml
check test-unknown-new-key 2 "^tests/cli/broken-store.test.yaml:20:9: error: unknown key 'new_costumer' in a turn \(did you mean 'new_customer'\?\)$" \
  -- "$parley" test "$bot" tests/cli/broken-store.test.yaml
# Wrong expectations must fail (what the bot decides about offers is not asserted here).
exp=tests/cli/expectations.test.yaml
check test-expectations-all-fail 1 '^0 passed, 7 failed$' -- "$parley" test "$bot" "$exp"
check test-wrong-offer-status 1 "^  $exp:11:31: turn 3 \(\"Video\"\): expected offer 'starter_kit' to be declined, got " \
  -- "$parley" test "$bot" "$exp"
check test-offer-never-made 1 "^  $exp:16:28: turn 1 \(\"hello\"\): expected offer 'dslr_kit' to be accepted, got none \(it was never made\)$" \
  -- "$parley" test "$bot" "$exp"
check test-wrong-offer-terms 1 "^  $exp:24:60: turn 3 \(\"Video\"\): expected offer 'starter_kit' valid until 2030-01-01, got " \
  -- "$parley" test "$bot" "$exp"
check test-accept-turn 1 "^  $exp:3[12]:[0-9]+: turn 4 \(\[accept starter_kit\]\): " -- "$parley" test "$bot" "$exp"
check test-decline-turn 1 "^  $exp:3[78]:[0-9]+: turn 1 \(\[decline starter_kit\]\): " -- "$parley" test "$bot" "$exp"
check test-accept-verbose 1 '^  \[web\] you> \[accept starter_kit\]$' -- "$parley" test -v "$bot" "$exp"
check test-wrong-consent 1 "^  $exp:43:36: turn 1 \(\"hello\"\): expected consent 'personalisation' to be true, got " \
  -- "$parley" test "$bot" "$exp"
check test-wrong-suppressed 1 "^  $exp:44:22: turn 1 \(\"hello\"\): expected 'lenses' to be suppressed, but it is not$" \
  -- "$parley" test "$bot" "$exp"
check test-wrong-new-customer 1 "^  $exp:49:23: turn 1 \(\"hello\"\): expected the same customer as in the turn before, got a new one$" \
  -- "$parley" test "$bot" "$exp"
check bench-runs 0 '^bench turns camera-shop-en \(store none\): [0-9]+ turns in .* turns/s, p50 .* us, p99 .* us' \
  -- "$parley" bench turns "$bot" --seconds 0.2
check bench-bad-seconds 2 'seconds needs a number' -- "$parley" bench turns "$bot" --seconds abc

check eval-help 0 '^usage: parley eval intents' -- "$parley" eval --help
check eval-needs-args 2 'train, --test and --lang are required' -- "$parley" eval intents --train tests/cli/tiny.tsv
check eval-bad-lang 2 'lang must be de or en' -- "$parley" eval intents --train tests/cli/tiny.tsv --test tests/cli/tiny-test.tsv --lang fr
check eval-missing-file 2 "cannot open 'nope.tsv'" -- "$parley" eval intents --train nope.tsv --test tests/cli/tiny-test.tsv --lang en
check eval-json 0 '^\{"in_scope_accuracy":[01]\.[0-9]+,"oos_recall":[01]\.[0-9]+,"utterances_per_second":[0-9]+,"build_ms":[0-9.]+,.*"index_bytes":[0-9]+,"in_scope_lines":3,"oos_lines":1,"seeds":2,"shots":2\}$' \
  -- "$parley" eval intents --train tests/cli/tiny.tsv --test tests/cli/tiny-test.tsv --lang en --shots 2 --seed 1,2 --json
check eval-skips-bad-lines 0 'skipped 1 lines without' -- "$parley" eval intents --train tests/cli/tiny.tsv --test tests/cli/tiny-test.tsv --lang en
check eval-same-file-holds-out 0 'in-scope accuracy [01]\.[0-9]+ \(3 lines\)' \
  -- "$parley" eval intents --train tests/cli/tiny.tsv --test tests/cli/tiny.tsv --lang en --shots 2
check bench-understand 0 '^combining marks +1 KiB: +[0-9.]+ ns/byte +4 KiB' -- "$parley" bench understand "$bot"

check capabilities-help 0 '^usage: parley capabilities' -- "$parley" capabilities --help
check capabilities-bad-channel 2 "unknown channel 'fax'" -- "$parley" capabilities "$bot" --channel fax
check capabilities-text 0 'automated' -- "$parley" capabilities "$bot" --channel voice
check capabilities-json 0 '"automated":[[:space:]]*true' -- "$parley" capabilities "$bot" --json
check capabilities-broken-bot 1 'the bot has errors' -- "$parley" capabilities tests/fixtures/bad/unknown-intent-trigger.yaml

# State in an SQLite store: a second chat process continues the first one's conversation,
# another user or another store does not, switching channel keeps the customer, /reset erases.
db="sqlite:$state_dir/state.db"
STDIN=$'I want a camera\n' check store-first-run 0 '"flow":"find_camera","step":"#2"' \
  -- "$parley" chat "$bot" --json --store "$db"
STDIN=$'about 500 euros\n' check store-restart-continues 0 '"flow":"find_camera","step":"#3","slots":\{"budget":500\}' \
  -- "$parley" chat "$bot" --json --store "$db"
STDIN=$'about 500 euros\n' check store-other-user-starts-fresh 0 '"flow":null' \
  -- "$parley" chat "$bot" --json --store "$db" --user someone-else
STDIN=$'about 500 euros\n' check store-other-file-starts-fresh 0 '"flow":null' \
  -- "$parley" chat "$bot" --json --store "sqlite:$state_dir/other.db"
STDIN=$'I want a camera\n/channel voice\n/quit\n' check store-channel-switch 0 '^\(now on voice\)' \
  -- "$parley" chat "$bot" --store "$db" --user walker
STDIN=$'about 500 euros\n' check store-voice-continues-web 0 '"flow":"find_camera","step":"#3"' \
  -- "$parley" chat "$bot" --json --store "$db" --user walker --channel voice
STDIN=$'/reset\n/quit\n' check store-reset 0 '^\(conversation reset\)' \
  -- "$parley" chat "$bot" --store "$db" --user walker --channel voice
STDIN=$'about 500 euros\n' check store-reset-erased-web-too 0 '"flow":null' \
  -- "$parley" chat "$bot" --json --store "$db" --user walker
check store-unknown-spec 2 "unknown store 'bogus:x'; use memory, sqlite:PATH or redis://HOST" \
  -- "$parley" chat "$bot" --store bogus:x
check store-redis-unreachable 1 'cannot open the store: redis 127.0.0.1:1: cannot connect' \
  -- "$parley" chat "$bot" --store redis://127.0.0.1:1
check store-unwritable 1 'cannot open the store: /nonexistent/dir/s.db' \
  -- "$parley" chat "$bot" --store sqlite:/nonexistent/dir/s.db
check bench-store-sqlite 0 '"store":"sqlite:.*","turns":[1-9][0-9]*,.*"errors":0,.*"state_bytes_mean":[1-9]' \
  -- "$parley" bench turns "$bot" --seconds 0.3 --json --store "sqlite:$state_dir/bench.db"
check bench-broken-bot 1 'parley bench: the bot has errors; fix them first' \
  -- "$parley" bench turns tests/fixtures/bad/unknown-intent-trigger.yaml
check bench-store-bad 2 "unknown store 'nope'" -- "$parley" bench turns "$bot" --store nope
check store-missing-value 2 'store needs a value' -- "$parley" chat "$bot" --store

# Signing in with a token from the site's login (HS256, signed here with the openssl command),
# a link code shown on the web and said by voice, offer buttons.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
make_token() { # SECRET PAYLOAD
  local h p
  h=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  p=$(printf '%s' "$2" | b64url)
  printf '%s.%s.%s' "$h" "$p" "$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -hmac "$1" -binary | b64url)"
}
secret=0123456789abcdef0123456789abcdef-cli-test
printf '%s\n' "$secret" >"$state_dir/secret"
printf 'short\n' >"$state_dir/short-secret"
exp=$(( $(date +%s) + 600 ))
alice=$(make_token "$secret" "{\"sub\":\"alice\",\"exp\":$exp}")
forged=$(make_token "not-the-site-secret-but-long-enough-0123" "{\"sub\":\"alice\",\"exp\":$exp}")
expired=$(make_token "$secret" "{\"sub\":\"alice\",\"exp\":$(( $(date +%s) - 3600 ))}")
ldb="sqlite:$state_dir/link.db"
check chat-secret-too-short 2 'must be 32 to 4096 bytes' \
  -- "$parley" chat "$bot" --jwt-secret-file "$state_dir/short-secret"
check chat-secret-missing 2 'cannot read the secret file' -- "$parley" chat "$bot" --jwt-secret-file /nonexistent
STDIN="/sign-in $alice"$'\n' check chat-sign-in-needs-secret 0 'start chat with --jwt-secret-file' -- "$parley" chat "$bot"
STDIN="/sign-in $forged"$'\n' check chat-sign-in-forged 0 '^\(not signed in: ' \
  -- "$parley" chat "$bot" --jwt-secret-file "$state_dir/secret"
STDIN="/sign-in $expired"$'\n' check chat-sign-in-expired 0 '^\(not signed in: .*expired' \
  -- "$parley" chat "$bot" --jwt-secret-file "$state_dir/secret"
STDIN="/sign-in $alice"$'\nI want a camera for travel, budget 900 euros\nlink my voice assistant\n' \
  check chat-sign-in-and-link-code 0 '^bot> Your code is [0-9]{3} [0-9]{3}\.' \
  -- "$parley" chat "$bot" --store "$ldb" --user w1 --jwt-secret-file "$state_dir/secret"
code=$(grep -oE 'Your code is [0-9]{3} [0-9]{3}' "$out" | grep -oE '[0-9]{3} [0-9]{3}')
STDIN="my code is $code"$'\nwhat was that offer again\n' check chat-voice-linked-same-offer 0 \
  '^bot> \[offer: Nikon Z50 starter kit with 16-50 mm lens, €849, until ' \
  -- "$parley" chat "$bot" --store "$ldb" --user speaker-1 --channel voice
STDIN=$'/decline starter_kit\n/decline starter_kit\n' check chat-decline-button 0 \
  '^bot> That offer is no longer open\.$' -- "$parley" chat "$bot" --store "$ldb" --user w1

# parley serve: its configuration file and options (the server itself: tests/server).
printf 'listen: 127.0.0.1:0\nstore: memory\nbots: [%s]\nlimits: {rate_limit: 5, idle_timeout: 60}\nlog_level: info\n' \
  "$PWD/$bot" >"$state_dir/serve.yaml"
printf 'listen: 127.0.0.1:0\nbogus: 1\n' >"$state_dir/serve-bad.yaml"
printf 'limits: {rate_limit: many}\n' >"$state_dir/serve-bad-limit.yaml"
check serve-help 0 '^usage: parley serve BOT.yaml' -- "$parley" serve --help
check serve-no-bot 2 'no bot file given' -- "$parley" serve --store memory
check serve-bad-listen 2 "'nowhere' is not HOST:PORT" -- "$parley" serve "$bot" --listen nowhere
check serve-bad-level 2 "log level 'loud' is not error" -- "$parley" serve "$bot" --log-level loud
check serve-bad-rate 2 'the rate limit must be 1 to 100 messages' -- "$parley" serve "$bot" --rate-limit 0
check serve-short-secret 2 'identity secret must be 32 to' -- env PARLEY_JWT_SECRET=short "$parley" serve "$bot"
check serve-config-unknown-key 2 "serve-bad.yaml:2:1: error: unknown setting" -- "$parley" serve --config "$state_dir/serve-bad.yaml" "$bot"
check serve-config-bad-limit 2 'the rate limit must be 1 to 100 messages' -- "$parley" serve --config "$state_dir/serve-bad-limit.yaml" "$bot"
check serve-broken-bot 1 'has errors' -- "$parley" serve tests/fixtures/bad/unknown-intent-trigger.yaml --store memory --listen 127.0.0.1:0
printf 'store: redis://127.0.0.1:1\nredis_password: s3cret-in-file\nbots: [%s]\n' "$PWD/$bot" >"$state_dir/serve-redis.yaml"
check serve-config-redis-password 1 'cannot open the store redis://127\.0\.0\.1:1: redis 127\.0\.0\.1:1: cannot connect' \
  -- "$parley" serve --config "$state_dir/serve-redis.yaml"
check serve-redis-password-not-shown 0 '^0$' -- bash -c '"$1" serve --config "$2" 2>&1 | grep -c s3cret-in-file || true' _ "$parley" "$state_dir/serve-redis.yaml"
# from the configuration file alone; SIGTERM after a second must end it cleanly (status 0)
check serve-config-starts-and-stops 0 '^parley serve: listening on http://127\.0\.0\.1:[0-9]+$' \
  -- timeout --preserve-status -s TERM 1 "$parley" serve --config "$state_dir/serve.yaml"

# parley export alexa: the interaction model of an Alexa skill, from the bot's YAML. The model
# must be valid JSON and keep Alexa's build rules (tests/voice/check_model.py, which must in
# turn catch a model that breaks them).
check export-help 0 '^usage: parley export alexa BOT.yaml' -- "$parley" export --help
check export-no-target 2 'give the target and the bot' -- "$parley" export
check export-unknown-target 2 "unknown target 'google'; only 'alexa'" -- "$parley" export google "$bot"
check export-unknown-option 2 "parley export: unknown option '--nope'" -- "$parley" export alexa --nope "$bot"
check export-invocation-upper-case 2 "Alexa does not take 'Lumen Shop' as an invocation name: it must be lower case" \
  -- "$parley" export alexa "$bot" --invocation 'Lumen Shop'
check export-invocation-one-word 2 'needs at least two words in English' -- "$parley" export alexa "$bot" --invocation lumen
check export-invocation-launch-word 2 "may not contain 'ask'" -- "$parley" export alexa "$bot" --invocation 'ask lumen cameras'
check export-invocation-digits 2 'numbers must be spelled out' -- "$parley" export alexa "$bot" --invocation 'lumen 24 cameras'
check export-broken-bot 1 'parley export: the bot has errors; fix them first' \
  -- "$parley" export alexa tests/fixtures/bad/unknown-intent-trigger.yaml
check export-unwritable 2 'cannot write /nonexistent/dir/model.json' \
  -- "$parley" export alexa "$bot" --out /nonexistent/dir/model.json
check export-stdout 0 '"invocationName":[[:space:]]*"lumen camera help"' \
  -- "$parley" export alexa "$bot" --invocation 'lumen camera help'
check export-left-out-note 0 "note: example \"compare the Z50 with the Sony Alpha 7 IV\" of intent 'compare_models' is left out" \
  -- "$parley" export alexa "$bot" --out "$state_dir/notes.json"
for lang in en de; do
  model="$state_dir/alexa.$lang.json"
  locale=$([ "$lang" = de ] && echo de-DE || echo en-US)
  check "export-$lang" 0 "^parley export: interaction model for $locale, invocation name \"lumen " \
    -- "$parley" export alexa "dialogs/camera-shop.$lang.yaml" --out "$model"
  check "export-$lang-json" 0 '"interactionModel"' -- /usr/bin/python3 -m json.tool "$model"
  check "export-$lang-alexa-rules" 0 '^ok: 23 intents, [0-9]+ samples, 2 slot types$' \
    -- /usr/bin/python3 tests/voice/check_model.py "$model" --locale "$locale" \
       --intent buy_camera --intent ParleyFreeTextIntent --intent AMAZON.StopIntent \
       --intent AMAZON.FallbackIntent --type camera_type --type subject
done
check export-numbers-spelled 0 '"I want a camera for travel my budget is nine hundred euros"' -- cat "$state_dir/alexa.en.json"
check export-de-numbers-spelled 0 '"hätte gern eine neue Kamera möchte höchstens tausend Euro ausgeben"' -- cat "$state_dir/alexa.de.json"
check export-free-text-slot 0 '^\["text", "AMAZON.SearchQuery"\]$' -- /usr/bin/python3 -c \
  'import json,sys; m=json.load(open(sys.argv[1]))["interactionModel"]["languageModel"]; i=[x for x in m["intents"] if x["name"]=="ParleyFreeTextIntent"][0]; print(json.dumps([i["slots"][0]["name"], i["slots"][0]["type"]]))' \
  "$state_dir/alexa.en.json"
check export-builtins-by-name-privacy-not 0 '^\["are_you_a_bot", "link_channel", "talk_to_human", "what_can_you_do"\]$' -- /usr/bin/python3 -c \
  'import json,sys; m=json.load(open(sys.argv[1]))["interactionModel"]["languageModel"]; print(json.dumps(sorted(x["name"] for x in m["intents"] if x["name"] in ("talk_to_human","are_you_a_bot","what_can_you_do","link_channel","forget_me","stop_personalising","not_interested"))))' \
  "$state_dir/alexa.en.json"
printf '%s\n' '{"interactionModel": {"languageModel": {"invocationName": "Shop", "intents": [' \
  '{"name": "buy-camera", "samples": ["buy 2 cameras"]}, {"name": "a", "samples": ["Hello"]},' \
  '{"name": "b", "slots": [{"name": "q", "type": "AMAZON.SearchQuery"}, {"name": "k", "type": "kind"}],' \
  '"samples": ["hello", "{q}"]}], "types": [{"name": "kind", "values": [{"id": "x", "name": {"value": "Foo"}},' \
  '{"id": "y", "name": {"value": "foo"}}]}]}}}' >"$state_dir/bad-model.json"
for rule in "word 'Shop' is not lower-case" "needs two words" "intent 'buy-camera': not a valid intent name" \
            "'2' is not a word Alexa takes" "sample 'hello' is in 'a' and 'b'" "needs a carrier phrase" \
            "slot 'k' is in no sample" "'foo' is said twice" "AMAZON.FallbackIntent is missing"; do
  check "check-model-catches: $rule" 1 "$rule" -- /usr/bin/python3 tests/voice/check_model.py "$state_dir/bad-model.json"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
