#!/usr/bin/env python3
"""Checks an Alexa interaction model (the JSON `parley export alexa` writes) against the rules
Alexa applies when it builds a skill, so a model that would not build fails here first.

Usage: check_model.py MODEL.json [--locale en-US] [--intent NAME]... [--type NAME]...
  --intent / --type  names that must be in the model as well.
Prints "ok: ..." and exits 0, or one line per problem and exits 1.

The rules (Alexa Skills Kit documentation and the console's build errors):
- invocation name: lower-case letters, single spaces, an apostrophe inside a word, a period
  only after a single letter ("a. b. c."); no digits; two words or more in English; no wake
  word, "skill", "app" or launch word
- custom intent and slot type names: a letter, then letters and underscores
- samples: words of letters with an apostrophe or hyphen inside, a single letter with a period,
  or {slot} of a slot the intent declares; no digits, no other punctuation; no sample twice in
  the whole model, whatever its case (Alexa gives a sample to one intent)
- every slot an intent declares is used by one of its samples; every slot type is AMAZON.* or
  declared, and every declared type is used
- AMAZON.SearchQuery: a sample with it has carrier words and no other slot
- slot type values: each value and synonym once per type, whatever its case; ids unique
- the built-in intents a skill needs are there
"""
import json
import re
import sys

NAME = re.compile(r"^[A-Za-z][A-Za-z_]*$")
BUILTIN = re.compile(r"^AMAZON\.[A-Za-z]+$")
SLOT_REF = re.compile(r"^\{([A-Za-z][A-Za-z_]*)\}$")
# a letter of any script (no digit, no underscore)
LETTER = r"[^\W\d_]"
WORD = re.compile(rf"^{LETTER}+(['-]{LETTER}+)*$|^{LETTER}\.$")
REQUIRED = ["AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent",
            "AMAZON.NavigateHomeIntent", "AMAZON.FallbackIntent"]
FORBIDDEN = {"alexa", "amazon", "echo", "computer", "skill", "app"}
LAUNCH = {"en": {"ask", "tell", "launch", "load", "begin", "enable", "open", "start"},
          "de": {"frag", "frage", "öffne", "starte", "sag", "sage"}}


def check_invocation(name, lang, problems):
    if not isinstance(name, str) or not name:
        problems.append("invocationName is missing")
        return
    words = name.split(" ")
    if "" in words:
        problems.append(f"invocationName {name!r}: one space between words, none around")
    for w in words:
        letters = "[a-z]" if lang == "en" else "[a-zäöüß]"
        if not re.fullmatch(rf"{letters}+('{letters}+)?|[a-z]\.", w):
            problems.append(f"invocationName {name!r}: word {w!r} is not lower-case letters")
        if w in FORBIDDEN or w in LAUNCH.get(lang, set()):
            problems.append(f"invocationName {name!r}: {w!r} is not allowed")
    if lang == "en" and len(words) < 2:
        problems.append(f"invocationName {name!r}: needs two words or more in English")


def main(argv):
    args = argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    path, locale, want_intents, want_types = args[0], None, [], []
    rest = args[1:]
    while rest:
        opt, val, rest = rest[0], rest[1] if len(rest) > 1 else None, rest[2:]
        if val is None or opt not in ("--locale", "--intent", "--type"):
            print(f"check_model.py: bad option {opt!r}", file=sys.stderr)
            return 2
        if opt == "--locale":
            locale = val
        elif opt == "--intent":
            want_intents.append(val)
        else:
            want_types.append(val)
    with open(path, encoding="utf-8") as f:
        model = json.load(f)
    problems = []
    try:
        lm = model["interactionModel"]["languageModel"]
        intents = lm["intents"]
    except (KeyError, TypeError):
        print("not an interaction model: no interactionModel.languageModel.intents")
        return 1
    types = lm.get("types", [])
    check_invocation(lm.get("invocationName"), (locale or "en")[:2], problems)

    type_names = {}
    for t in types:
        n = t.get("name", "")
        if not NAME.match(n):
            problems.append(f"slot type {n!r}: not letters and underscores after a letter")
        if n.lower() in type_names:
            problems.append(f"slot type {n!r} is declared twice")
        type_names[n.lower()] = n
        said, ids = {}, set()
        for v in t.get("values", []):
            vid = v.get("id")
            if vid is not None:
                if vid in ids:
                    problems.append(f"slot type {n!r}: id {vid!r} twice")
                ids.add(vid)
            forms = [v.get("name", {}).get("value")] + v.get("name", {}).get("synonyms", [])
            for form in forms:
                if not isinstance(form, str) or not form.strip():
                    problems.append(f"slot type {n!r}: an empty value or synonym")
                    continue
                key = form.casefold()
                if key in said:
                    problems.append(f"slot type {n!r}: {form!r} is said twice "
                                    f"(values {said[key]!r} and {vid!r})")
                said[key] = vid
        if not t.get("values"):
            problems.append(f"slot type {n!r} has no values")

    seen_intents, seen_samples, used_types = set(), {}, set()
    for it in intents:
        name = it.get("name", "")
        builtin = name.startswith("AMAZON.")
        if not (BUILTIN.match(name) if builtin else NAME.match(name)):
            problems.append(f"intent {name!r}: not a valid intent name")
        if name.lower() in seen_intents:
            problems.append(f"intent {name!r} is there twice")
        seen_intents.add(name.lower())
        slots = {}
        for s in it.get("slots", []):
            sn, st = s.get("name", ""), s.get("type", "")
            if not NAME.match(sn):
                problems.append(f"intent {name!r}: slot name {sn!r} is not valid")
            if sn in slots:
                problems.append(f"intent {name!r}: slot {sn!r} twice")
            slots[sn] = st
            if not st.startswith("AMAZON."):
                if st.lower() not in type_names:
                    problems.append(f"intent {name!r}: slot {sn!r} has the undeclared type {st!r}")
                used_types.add(st.lower())
        samples = it.get("samples", [])
        if not builtin and not samples:
            problems.append(f"intent {name!r} has no samples")
        used_slots = set()
        for sample in samples:
            key = sample.casefold()
            if key in seen_samples:
                problems.append(f"sample {sample!r} is in {seen_samples[key]!r} and {name!r}")
            seen_samples[key] = name
            words = sample.split(" ")
            if "" in words:
                problems.append(f"intent {name!r}: sample {sample!r} has extra spaces")
            refs, plain = [], 0
            for w in words:
                m = SLOT_REF.match(w)
                if m:
                    refs.append(m.group(1))
                elif w and not WORD.match(w):
                    problems.append(f"intent {name!r}: sample {sample!r}: {w!r} is not a word "
                                    "Alexa takes (letters; ' or - inside; a letter with a period)")
                else:
                    plain += 1
            for r in refs:
                if r not in slots:
                    problems.append(f"intent {name!r}: sample {sample!r} uses the undeclared slot {r!r}")
                used_slots.add(r)
            if any(slots.get(r) == "AMAZON.SearchQuery" for r in refs):
                if plain == 0:
                    problems.append(f"intent {name!r}: sample {sample!r} needs a carrier phrase "
                                    "around its AMAZON.SearchQuery slot")
                if len(refs) > 1:
                    problems.append(f"intent {name!r}: sample {sample!r} combines "
                                    "AMAZON.SearchQuery with another slot")
        for sn in slots:
            if sn not in used_slots:
                problems.append(f"intent {name!r}: slot {sn!r} is in no sample")
    for t in type_names:
        if t not in used_types:
            problems.append(f"slot type {type_names[t]!r} is used by no slot")
    for r in REQUIRED:
        if r.lower() not in seen_intents:
            problems.append(f"the built-in intent {r} is missing")
    for w in want_intents:
        if w.lower() not in seen_intents:
            problems.append(f"intent {w!r} is missing")
    for w in want_types:
        if w.lower() not in type_names:
            problems.append(f"slot type {w!r} is missing")

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"ok: {len(intents)} intents, {len(seen_samples)} samples, {len(types)} slot types")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
