#!/usr/bin/python3
"""The voice channel's SSML as a listener gets it: every reply of the demo conversations is
rendered to audio by a real SSML speech synthesizer, and one reply is turned back into text by
a real speech recognizer.

parley serve runs as in test_alexa.py (a test CA made with the openssl command, verification
on, signed requests). Launch, a purchase conversation (camera, budget, travel, the offer, yes),
help and stop are played in English and in German, and the SSML of every answer (and of every
reprompt) is kept. For each one:

- `espeak-ng -m -v VOICE -w out.wav SSML` (Debian's espeak-ng; -m: the text is SSML) exits 0
  and says nothing on stderr;
- `sox out.wav -n stat`: longer than 0.2 s and an RMS amplitude above 0 (not empty, not silence);
- no markup is read aloud: the phonemes espeak-ng makes of the SSML (`-m -q -x`), compared word
  by word with those of the reply's plain text (the elements taken out, the entities decoded),
  have no extra word that espeak-ng makes of the tags themselves read as text;
- every <break time="Nms"/> is a pause espeak-ng keeps: with each break 1000 ms longer, the
  audio is longer by (nearly) 1 s per break.
Where espeak-ng reads the SSML otherwise than its plain text (other extra or missing words), and
a say-as that it reads as plain text (it has no interpret-as="date"), a NOTE line says so.

The round trip: the English help answer (a fixed reply) is rendered, resampled with sox to
16 kHz mono 16-bit, and recognized by Debian's pocketsphinx (pocketsphinx_continuous, the
pocketsphinx-en-us acoustic model) with a small JSGF grammar of a few candidate sentences; the
text must be the help answer's (lower case, without punctuation). Negatives: the goodbye reply
and another candidate sentence, rendered the same way, must not be recognized as it.

usage: test_audio.py PARLEY SOURCE_DIR [--keep DIR]   (DIR: keep the SSML and WAV files there)
Prints PASS/FAIL/NOTE lines and "N passed, N failed"; exits 0 when all passed, else 1."""

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter

sys.dont_write_bytecode = True  # no __pycache__ beside test_alexa.py
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from test_alexa import make_pki, Server, envelope, free_text, ssml_of  # noqa: E402

VOICES = {"en": "en-us", "de": "de"}  # espeak-ng voices for the requests' locales en-US, de-DE
LOCALES = {"en": "en-US", "de": "de-DE"}
MODEL = "/usr/share/pocketsphinx/model/en-us"  # Debian's pocketsphinx-en-us
DICT = f"{MODEL}/cmudict-en-us.dict"
# Words of the candidate sentences that the model's dictionary does not have (ARPAbet).
EXTRA_WORDS = {"dslr": "D IY EH S EH L AA R", "mirrorless": "M IH R ER L AH S"}
# Sentences the recognizer may choose from besides the demo bot's own replies.
DECOYS = ["i can not help you with that", "welcome to the lumen camera shop",
          "what is your budget roughly", "thank you"]
# With pocketsphinx's default beams a long sentence of a synthetic voice drops out of the
# grammar's search ("Final result does not match the grammar"); wide beams keep every path.
BEAMS = ["-beam", "1e-100", "-pbeam", "1e-100", "-wbeam", "1e-80", "-maxhmmpf", "-1"]

passed, failures = [], []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what, flush=True)
    (passed if cond else failures).append(what)
    return cond


def note(what):
    print("NOTE " + what, flush=True)


def intent(name):
    return {"type": "IntentRequest", "intent": {"name": name}}


CONVERSATIONS = {
    "en": [("launch", {"type": "LaunchRequest"}), ("camera", free_text("I am looking for a camera")),
           ("budget", free_text("about 900 euros")), ("travel", free_text("travel")),
           ("yes", intent("AMAZON.YesIntent")), ("help", intent("AMAZON.HelpIntent")),
           ("stop", intent("AMAZON.StopIntent"))],
    "de": [("launch", {"type": "LaunchRequest"}), ("camera", free_text("Ich suche eine Kamera")),
           ("budget", free_text("etwa 900 Euro")), ("travel", free_text("Reisen")),
           ("yes", intent("AMAZON.YesIntent")), ("help", intent("AMAZON.HelpIntent")),
           ("stop", intent("AMAZON.StopIntent"))],
}


def collect(srv):
    """[(name, lang, ssml)] of every answer and reprompt of the demo conversations."""
    replies = []
    for lang, steps in CONVERSATIONS.items():
        user = f"audio-{lang}"
        for i, (name, request) in enumerate(steps):
            st, r = srv.post(envelope(user, request, locale=LOCALES[lang], new=(i == 0)))
            try:
                ssml = ssml_of(r)
            except (KeyError, TypeError):
                ssml = None
            if not check(st == 200 and ssml, f"{lang} {name}: 200 with SSML ({st} {str(r)[:160]})"):
                continue
            replies.append((f"{lang}-{name}", lang, ssml))
            rep = r["response"].get("reprompt")
            if rep:
                replies.append((f"{lang}-{name}-reprompt", lang, rep["outputSpeech"]["ssml"]))
        offer = [s for n, l, s in replies if l == lang and "849" in s]
        check(offer, f"{lang}: the purchase conversation reached the offer (849)")
    return replies


def plain(ssml):
    """What the SSML says, as plain text: breaks become spaces, other tags go, entities decoded."""
    s = re.sub(r"<break\b[^>]*/>", " ", ssml)
    s = re.sub(r"</?(speak|say-as)\b[^>]*>", "", s)
    return html.unescape(s)


def espeak(voice, text, *opts, ssml=True, timeout=60):
    cmd = ["espeak-ng"] + (["-m"] if ssml else []) + ["-v", voice] + list(opts) + [text]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def phonemes(voice, text, ssml=True):
    """espeak-ng's phoneme mnemonics, word by word, without pause and stop marks."""
    out = espeak(voice, text, "-q", "-x", ssml=ssml).stdout
    return re.sub(r"_[:!|]?", " ", out).split()


def stat(wav):
    """(length in seconds, RMS amplitude) from `sox wav -n stat` (it writes to stderr)."""
    p = subprocess.run(["sox", wav, "-n", "stat"], capture_output=True, text=True, timeout=60)
    val = lambda key: float(re.search(rf"^{key}:\s*([-0-9.e+]+)", p.stderr, re.M).group(1))
    try:
        return val(r"Length \(seconds\)"), val(r"RMS\s+amplitude")
    except AttributeError:
        return None, None


def render_all(replies, work):
    for name, lang, ssml in replies:
        voice = VOICES[lang]
        wav = f"{work}/{name}.wav"
        with open(f"{work}/{name}.ssml", "w") as f:
            f.write(ssml)
        try:
            ET.fromstring(ssml)
        except ET.ParseError as e:
            check(False, f"{name}: SSML is well-formed XML ({e})")
        p = espeak(voice, ssml, "-w", wav)
        check(p.returncode == 0 and not p.stderr.strip() and os.path.exists(wav),
              f"{name}: espeak-ng -m -v {voice} takes the SSML (exit {p.returncode}"
              f"{', stderr: ' + p.stderr.strip()[:200] if p.stderr.strip() else ''})")
        length, rms = stat(wav) if os.path.exists(wav) else (None, None)
        check(length is not None and length > 0.2 and rms > 0,
              f"{name}: sox: {length} s, RMS amplitude {rms} (> 0.2 s, not silence)")
        said, meant = phonemes(voice, ssml), phonemes(voice, plain(ssml), ssml=False)
        extra, missing = Counter(said) - Counter(meant), Counter(meant) - Counter(said)
        # the words espeak-ng makes of the tags themselves when it reads them as text
        markup = {w for tag in set(re.findall(r"<[^>]*>", ssml)) for w in phonemes(voice, tag, ssml=False)}
        read = sorted(w for w in extra if w in markup)
        check(not read, f"{name}: no markup read aloud ({len(said)} words, the plain text has "
                        f"{len(meant)}{'; read from the tags: ' + ' '.join(read) if read else ''})")
        if extra or missing:
            note(f"{name}: espeak-ng reads the SSML otherwise than its plain text: extra "
                 f"{' '.join(sorted(extra.elements())) or '-'}, missing {' '.join(sorted(missing.elements())) or '-'}")
        breaks = re.findall(r'<break time="(\d+)ms"/>', ssml)
        if breaks:
            longer = re.sub(r'<break time="(\d+)ms"/>',
                            lambda m: f'<break time="{int(m.group(1)) + 1000}ms"/>', ssml)
            p = espeak(voice, longer, "-w", f"{work}/{name}.longer.wav")
            l2, _ = stat(f"{work}/{name}.longer.wav")
            grew = (l2 - length) if (l2 is not None and length is not None) else None
            check(grew is not None and grew > 0.8 * len(breaks),
                  f"{name}: its {len(breaks)} break(s) are pauses espeak-ng keeps "
                  f"(each 1000 ms longer: +{grew if grew is None else round(grew, 2)} s)")
        for attrs, text in re.findall(r"<say-as\b([^>]*)>(.*?)</say-as>", ssml):
            piece = f"<speak><say-as{attrs}>{text}</say-as></speak>"
            if phonemes(voice, piece) == phonemes(voice, html.unescape(text), ssml=False):
                note(f"{name}: espeak-ng ignores <say-as{attrs}>: {text!r} is read as plain text: "
                     f"{' '.join(phonemes(voice, piece))}")


def words(text):
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower()).split())


def recognizer(sentences, work):
    """A JSGF grammar of the sentences and a dictionary of their words; None if a word is unknown."""
    vocab = {w for s in sentences for w in s.split()}
    lines, known = [], set()
    with open(DICT, encoding="utf-8", errors="replace") as f:
        for line in f:
            head = line.split(" ", 1)[0]
            base = re.sub(r"\(\d+\)$", "", head)
            if base in vocab:
                lines.append(line.rstrip("\n"))
                known.add(base)
    for w in vocab - known:
        if w in EXTRA_WORDS:
            lines.append(f"{w} {EXTRA_WORDS[w]}")
            known.add(w)
    if not check(known == vocab, f"pocketsphinx: every word of the grammar is in its dictionary "
                                 f"(missing: {sorted(vocab - known)})"):
        return None
    with open(f"{work}/words.dict", "w") as f:
        f.write("\n".join(sorted(lines)) + "\n")
    with open(f"{work}/replies.gram", "w") as f:
        f.write("#JSGF V1.0;\ngrammar replies;\npublic <reply> = " + " | ".join(sentences) + " ;\n")
    return f"{work}/words.dict", f"{work}/replies.gram"


def recognize(ssml, voice, tag, work, dict_, gram):
    wav, wav16 = f"{work}/{tag}.wav", f"{work}/{tag}.16k.wav"
    p = espeak(voice, ssml, "-w", wav)
    if p.returncode != 0:
        return None, f"espeak-ng exit {p.returncode}: {p.stderr.strip()[:200]}"
    p = subprocess.run(["sox", wav, "-r", "16000", "-c", "1", "-b", "16", wav16, "pad", "0.3", "0.3"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return None, f"sox exit {p.returncode}: {p.stderr.strip()[:200]}"
    log = f"{work}/{tag}.pocketsphinx.log"
    p = subprocess.run(["pocketsphinx_continuous", "-hmm", f"{MODEL}/en-us", "-dict", dict_,
                        "-jsgf", gram, "-infile", wav16, "-logfn", log] + BEAMS,
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return None, f"pocketsphinx_continuous exit {p.returncode}: {open(log).read()[-500:]}"
    return words(p.stdout), ""


def round_trip(replies, work):
    by_name = {n: s for n, _, s in replies}
    if not check("en-help" in by_name and "en-stop" in by_name, "round trip: the English help and goodbye replies"):
        return
    help_ssml, bye_ssml = by_name["en-help"], by_name["en-stop"]
    expected, bye = words(plain(help_ssml)), words(plain(bye_ssml))
    sentences = list(dict.fromkeys([expected, bye] + DECOYS))
    files = recognizer(sentences, work)
    if not files:
        return
    got, err = recognize(help_ssml, VOICES["en"], "roundtrip-help", work, *files)
    check(got == expected, f"round trip: the help answer is recognized as {expected!r} (got {got!r}{' ' + err if err else ''})")
    got, err = recognize(bye_ssml, VOICES["en"], "roundtrip-goodbye", work, *files)
    check(got is not None and got != expected,
          f"round trip, negative: the goodbye audio is not the help answer (got {got!r}{' ' + err if err else ''})")
    check(got == bye, f"round trip: the goodbye audio is recognized as {bye!r} (got {got!r})")
    decoy = DECOYS[0]
    got, err = recognize(f"<speak>{decoy.capitalize()}.</speak>", VOICES["en"], "roundtrip-decoy", work, *files)
    check(got is not None and got != expected,
          f"round trip, negative: {decoy!r} spoken is not the help answer (got {got!r}{' ' + err if err else ''})")


def main():
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__.split("usage: ")[1].split("\n")[0], file=sys.stderr)
        sys.exit(2)
    parley, src = os.path.realpath(args[0]), os.path.realpath(args[1])
    tools = {t: shutil.which(t) for t in ("espeak-ng", "sox", "pocketsphinx_continuous", "openssl")}
    ok = check(all(tools.values()) and os.path.isdir(f"{MODEL}/en-us") and os.path.exists(DICT),
               f"the tools are there: {tools}, model {MODEL}")
    if ok:
        with tempfile.TemporaryDirectory(prefix="parley-audio-") as d:
            work = keep or f"{d}/audio"
            os.makedirs(work, exist_ok=True)
            make_pki(d)
            srv = Server(parley, src, d)
            try:
                replies = collect(srv)
            finally:
                code = srv.stop()
                check(code == 0, f"the server stops cleanly (exit {code})")
                if failures:
                    print(open(f"{d}/server.log").read()[-3000:])
            render_all(replies, work)
            round_trip(replies, work)
    print(f"{len(passed)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
