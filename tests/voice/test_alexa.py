#!/usr/bin/python3
"""The voice webhook with real, signed requests: a test CA and signing key made here with the
openssl command (the platform's real chain cannot be fetched on this machine), configured as
trusted, so verification stays on. Covers launch, whole conversations in German and English,
help, stop, session end, the mapping of the skill's own intents, every verification failure
(400, state unchanged), the same customer on the web and by voice, and the voice latency.

usage: test_alexa.py PARLEY SOURCE_DIR [--requests N]"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import websockets

SKILL = "amzn1.ask.skill.parley-test"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
failures = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def run(*cmd, data=None):
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def make_pki(d):
    """A root CA, an intermediate, and a signing certificate for echo-api.amazon.com."""
    def cfg(name, text):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        return p
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3",
        "-subj", "/CN=Parley Test Root", "-keyout", f"{d}/root.key", "-out", f"{d}/root.pem")
    ext = cfg("ext.cnf", "[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n"
                         "[leaf]\nsubjectAltName=DNS:echo-api.amazon.com\nkeyUsage=critical,digitalSignature\n"
                         "[other]\nsubjectAltName=DNS:evil.example\n")
    for name, cn, sect, signer in (("inter", "Parley Test Intermediate", "ca", "root"),
                                   ("leaf", "echo-api.amazon.com", "leaf", "inter"),
                                   ("other", "evil.example", "other", "inter")):
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
            "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.csr")
        run("openssl", "x509", "-req", "-in", f"{d}/{name}.csr", "-CA", f"{d}/{signer}.pem",
            "-CAkey", f"{d}/{signer}.key", "-CAcreateserial", "-days", "2", "-extfile", ext,
            "-extensions", sect, "-out", f"{d}/{name}.pem")
    os.makedirs(f"{d}/cache")
    with open(f"{d}/cache/echo-api-cert-test.pem", "w") as out:
        for name in ("leaf", "inter"):
            out.write(open(f"{d}/{name}.pem").read())
    with open(f"{d}/cache/wrong-name.pem", "w") as out:
        for name in ("other", "inter"):
            out.write(open(f"{d}/{name}.pem").read())


def sign(d, body, key="leaf"):
    return base64.b64encode(run("openssl", "dgst", "-sha256", "-sign", f"{d}/{key}.key",
                                data=body)).decode()


def now_iso(offset=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset))


def envelope(user, request, locale="en-US", token=None, skill=SKILL, new=False):
    req = {"requestId": "amzn1.echo-api.request." + uuid.uuid4().hex, "timestamp": now_iso(),
           "locale": locale}
    req.update(request)
    u = {"userId": user}
    if token:
        u["accessToken"] = token
    return {"version": "1.0",
            "session": {"new": new, "sessionId": "amzn1.echo-api.session.x",
                        "application": {"applicationId": skill}, "attributes": {}, "user": u},
            "context": {"System": {"application": {"applicationId": skill}, "user": u}},
            "request": req}


class Server:
    def __init__(self, parley, src, d, extra=()):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.d = d
        with open(f"{d}/secret", "w") as f:
            f.write("voice-test-secret-0123456789abcdef-xyz")
        self.db = f"{d}/state.db"
        self.log = open(f"{d}/server.log", "w")
        self.p = subprocess.Popen(
            [parley, "serve", "--listen", f"127.0.0.1:{self.port}", "--store", f"sqlite:{self.db}",
             "--jwt-secret-file", f"{d}/secret", "--voice-skill-id", SKILL, "--voice-cert-cache",
             f"{d}/cache", "--voice-ca", f"{d}/root.pem", "--rate-limit", "100", *extra,
             "dialogs/camera-shop.en.yaml", "dialogs/camera-shop.de.yaml"],
            cwd=src, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("parley serve did not start")

    def post(self, env, cert_url=CERT_URL, sig=None, key="leaf", raw=None, headers=None):
        body = raw if raw is not None else json.dumps(env).encode()
        h = {"Content-Type": "application/json"}
        if cert_url is not None:
            h["SignatureCertChainUrl"] = cert_url
        signature = sig if sig is not None else sign(self.d, body if raw is None else raw, key)
        if signature:
            h["Signature-256"] = signature
        h.update(headers or {})
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/v1/voice/alexa", data=body,
                                     headers=h, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def versions(self):
        with sqlite3.connect(self.db) as c:
            return c.execute("SELECT COALESCE(SUM(version), 0), COUNT(*) FROM customers").fetchone()

    def voice_cursors(self):
        """How many stored customers wait at a question on the voice channel."""
        with sqlite3.connect(self.db) as c:
            docs = [json.loads(d) for (d,) in c.execute("SELECT doc FROM customers")]
        return sum(1 for d in docs if "voice" in (d.get("cursors") or {}))

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        code = self.p.wait(timeout=10)
        self.log.close()
        return code


def ssml_of(resp):
    return resp["response"]["outputSpeech"]["ssml"]


def spoken(resp):
    """The text of the SSML (well-formed, or the check fails)."""
    s = ssml_of(resp)
    try:
        root = ET.fromstring(s)
    except ET.ParseError as e:
        check(False, f"SSML is well-formed XML: {e}: {s[:200]}")
        return ""
    return " ".join("".join(root.itertext()).split())


def token_for(sub, secret=b"voice-test-secret-0123456789abcdef-xyz"):
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    h = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    p = b64(json.dumps({"sub": sub, "exp": int(time.time()) + 3600}).encode())
    mac = hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest()
    return f"{h}.{p}.{b64(mac)}"


def free_text(text):
    return {"type": "IntentRequest", "intent": {"name": "ParleyFreeTextIntent",
                                                "slots": {"text": {"name": "text", "value": text}}}}


def conversations(srv):
    st, r = srv.post(envelope("user-en", {"type": "LaunchRequest"}, new=True))
    check(st == 200 and "automated" in spoken(r) and r["response"]["shouldEndSession"] is False,
          f"launch: disclosure first, session stays open ({st} {spoken(r)[:120]!r})")
    check(len(spoken(r).split(". ")) >= 2, "launch: disclosure and the greeting")
    steps = [("I am looking for a camera", "budget"), ("about 900 euros", "photograph"),
             ("travel", "849")]
    for text, want in steps:
        st, r = srv.post(envelope("user-en", free_text(text)))
        check(st == 200 and want in spoken(r), f"en {text!r} → mentions {want!r} ({spoken(r)[:140]!r})")
    check("card" in r["response"] and "849" in r["response"]["card"]["content"],
          "the offer also comes as a card with its exact price")
    check("http" not in ssml_of(r) and "<speak>" in ssml_of(r), "no URL is read aloud")
    check("reprompt" in r["response"], "while a question waits, the reprompt asks it again")
    st, r = srv.post(envelope("user-en", {"type": "IntentRequest", "intent": {"name": "AMAZON.YesIntent"}}))
    check(st == 200 and "I will remember" in spoken(r), f"the skill's yes answers the consent question ({spoken(r)[:100]!r})")
    st, r = srv.post(envelope("user-en", {"type": "IntentRequest", "intent": {"name": "AMAZON.HelpIntent"}}))
    check(st == 200 and "I can" in spoken(r), f"help says what the bot can do ({spoken(r)[:100]!r})")
    st, r = srv.post(envelope("user-en", {"type": "IntentRequest", "intent": {"name": "AMAZON.StopIntent"}}))
    check(st == 200 and r["response"]["shouldEndSession"] is True and "Goodbye" in spoken(r),
          "stop says goodbye and ends the session")
    st, r = srv.post(envelope("user-en", {"type": "SessionEndedRequest", "reason": "USER_INITIATED"}))
    check(st == 200 and r["response"] == {}, f"session end: an empty response ({r})")
    waiting = srv.voice_cursors()
    srv.post(envelope("user-ended", free_text("I am looking for a camera")))
    check(srv.voice_cursors() == waiting + 1, "a question by voice waits in the voice cursor")
    srv.post(envelope("user-ended", {"type": "SessionEndedRequest", "reason": "EXCEEDED_MAX_REPROMPTS"}))
    check(srv.voice_cursors() == waiting, "session end closes the voice cursor")
    # German, with the skill's own intent mapped back by name and its slot values as words
    st, r = srv.post(envelope("user-de", {"type": "LaunchRequest"}, locale="de-DE", new=True))
    check(st == 200 and "automatisch" in spoken(r), f"de launch ({spoken(r)[:100]!r})")
    st, r = srv.post(envelope("user-de", {"type": "IntentRequest", "intent": {
        "name": "buy_camera", "slots": {"budget": {"name": "budget", "value": "900 Euro"}}}},
        locale="de-DE"))
    check(st == 200 and "fotografieren" in spoken(r), f"de buy_camera with its budget slot ({spoken(r)[:120]!r})")
    st, r = srv.post(envelope("user-de", free_text("Reisen"), locale="de-DE"))
    check(st == 200 and "849" in spoken(r), f"de offer spoken with its price ({spoken(r)[:160]!r})")
    st, r = srv.post(envelope("user-de", {"type": "IntentRequest", "intent": {"name": "AMAZON.FallbackIntent"}},
                              locale="de-DE"))
    check(st == 200 and spoken(r), "fallback gets the bot's answer for not understanding")


def verification(srv):
    env = envelope("user-v", free_text("I am looking for a camera"))
    body = json.dumps(env).encode()
    before = srv.versions()
    cases = {
        "tampered body": dict(raw=body.replace(b"camera", b"camerb"), sig=sign(srv.d, body)),
        "stale timestamp (151 s)": dict(raw=json.dumps(dict(env, request=dict(env["request"], timestamp=now_iso(-151)))).encode()),
        "timestamp 152 s ahead": dict(raw=json.dumps(dict(env, request=dict(env["request"], timestamp=now_iso(152)))).encode()),
        "wrong skill id": dict(raw=json.dumps(envelope("user-v", free_text("hi"), skill="amzn1.ask.skill.other")).encode()),
        "http URL": dict(raw=body, cert_url=CERT_URL.replace("https", "http")),
        "other host": dict(raw=body, cert_url=CERT_URL.replace("s3.amazonaws.com", "s3.evil.example")),
        "path outside /echo.api/": dict(raw=body, cert_url="https://s3.amazonaws.com/EcHo.aPi/echo-api-cert-test.pem"),
        "port 444": dict(raw=body, cert_url=CERT_URL.replace(".com/", ".com:444/")),
        "dot-dot path": dict(raw=body, cert_url="https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert-test.pem"),
        "certificate not for echo-api.amazon.com": dict(raw=body, cert_url="https://s3.amazonaws.com/echo.api/wrong-name.pem", key="other"),
        "signed by another key": dict(raw=body, key="other"),
        "missing Signature-256": dict(raw=body, sig=""),
        "missing SignatureCertChainUrl": dict(raw=body, cert_url=None),
        "certificate not in the cache": dict(raw=body, cert_url="https://s3.amazonaws.com/echo.api/unknown.pem"),
    }
    for name, kw in cases.items():
        st, r = srv.post(None, **kw)
        check(st == 400 and r.get("type") == "error", f"{name}: 400 ({st} {r.get('message', '')})")
    check(srv.versions() == before, f"refused requests changed no state ({before} → {srv.versions()})")
    st, r = srv.post(env)
    check(st == 200, "the same request, correctly signed, is taken")
    check(srv.versions() != before, "…and it changes the state")
    st, r = srv.post(None, cert_url="https://S3.AMAZONAWS.COM:443/echo.api/echo-api-cert-test.pem", raw=body)
    check(st == 200, "host in capitals and port 443 are the same URL")


async def web_signed_in(srv, token, client_id):
    """A web widget connection signed in with token, past its hello (capabilities, state)."""
    ws = await websockets.connect(f"ws://127.0.0.1:{srv.port}/v1/ws", subprotocols=["parley.v1"],
                                  origin=f"http://127.0.0.1:{srv.port}")
    await ws.send(json.dumps({"type": "hello", "v": 1, "channel": "web", "client_id": client_id,
                              "locale": "en", "token": token}))
    await ws.recv(), await ws.recv()
    return ws


async def cross_channel(srv):
    token = token_for("voice-cross")
    ws = await web_signed_in(srv, token, "voice-cross-web-0001")
    await ws.send(json.dumps({"type": "message", "id": "m1", "text": "I want a camera for travel, budget 900 euros"}))
    reply = json.loads(await ws.recv())
    offer = [m["offer"] for m in reply["messages"] if m["type"] == "offer"][0]
    await ws.recv()  # the state after the reply
    st, r = srv.post(envelope("voice-cross-device", free_text("what was that offer again"), token=token))
    check(st == 200 and "849" in spoken(r) and offer["title"].split(" ")[0] in spoken(r),
          f"by voice, the offer made on the web with the same terms ({spoken(r)[:160]!r})")
    day = time.strftime("%-d", time.gmtime(offer["valid_until"] / 1000))
    check(day in spoken(r), "…and the same last day")
    started = time.monotonic()
    st, r = srv.post(envelope("voice-cross-device", free_text("no thanks"), token=token))
    check(st == 200, f"declined by voice ({spoken(r)[:100]!r})")
    status, took = [], None
    try:  # every voice turn pushes the state it left; the decline's shows the offer declined
        while status != ["declined"]:
            pushed = json.loads(await asyncio.wait_for(ws.recv(), 2))
            status = [o["status"] for o in pushed.get("offers", []) if o["id"] == offer["id"]]
        took = (time.monotonic() - started) * 1000
    except asyncio.TimeoutError:
        pass
    check(status == ["declined"] and took is not None and took < 1000,
          f"the web widget is told at once: declined ({took} ms after the request)")
    # what voice cannot show goes to the open screen, and only then does voice say so
    st, r = srv.post(envelope("voice-cross-device", free_text("compare cameras side by side"), token=token))
    check(st == 200 and "sent the details to your app" in spoken(r),
          f"a comparison asked for by voice: 'sent to your app' ({spoken(r)[:100]!r})")
    got = None
    try:
        while got is None:
            m = json.loads(await asyncio.wait_for(ws.recv(), 2))
            if m.get("type") == "reply":
                got = " ".join(x.get("text", "") for x in m["messages"])
    except asyncio.TimeoutError:
        pass
    check(got is not None and "Canon EOS 250D" in got, f"…and the web widget got the table ({str(got)[:80]!r})")
    await ws.close()
    st, r = srv.post(envelope("voice-cross-device", free_text("compare cameras side by side"), token=token))
    check(st == 200 and "sent the details" not in spoken(r) and spoken(r),
          f"without an open screen voice says where to find it instead ({spoken(r)[:100]!r})")


async def link_by_voice(srv):
    """A voice assistant without account linking is linked with a code from the web, said in
    words as a voice platform may transcribe it."""
    token = token_for("voice-link")
    ws = await web_signed_in(srv, token, "voice-link-web-00001")
    await ws.send(json.dumps({"type": "message", "id": "l1", "text": "link my voice assistant"}))
    reply = json.loads(await ws.recv())
    text = " ".join(m["text"] for m in reply["messages"])
    digits = "".join(ch for ch in text.split("Your code is ")[-1][:7] if ch.isdigit())
    check(len(digits) == 6, f"the web shows a 6-digit code ({text[:80]!r})")
    names = "zero one two three four five six seven eight nine".split()
    said = "my code is " + " ".join(names[int(ch)] for ch in digits)
    st, r = srv.post(envelope("voice-link-speaker", free_text(said)))
    check(st == 200 and "linked to your account" in spoken(r), f"said by voice in words, it links ({spoken(r)[:100]!r})")
    await ws.close()


def insecure_mode(parley, src, d):
    """--insecure-skip-voice-verification takes unsigned requests and warns at every one."""
    srv = Server(parley, src, d, extra=("--insecure-skip-voice-verification",))
    env = envelope("insecure-user", {"type": "LaunchRequest"})
    st1, _ = srv.post(env, cert_url=None, sig="")
    st2, _ = srv.post(env, cert_url=None, sig="")
    code = srv.stop()
    log = open(f"{d}/server.log").read()
    check(st1 == 200 and st2 == 200, "insecure mode takes unsigned requests")
    check(log.count("NOT verified") == 2 and code == 0, "…and logs a warning at every one")


def latency(srv, n):
    bodies = []
    for i in range(n):
        env = envelope(f"bench-{i % 50}", free_text("what can you do"))
        body = json.dumps(env).encode()
        bodies.append((body, sign(srv.d, body)))
    times = []
    for body, sig in bodies:
        t0 = time.perf_counter()
        st, _ = srv.post(None, raw=body, sig=sig)
        times.append(time.perf_counter() - t0)
        if st != 200:
            check(False, f"latency run: a request got {st}")
            return
    times.sort()
    print(json.dumps({"voice_requests": n, "p50_ms": round(times[n // 2] * 1000, 2),
                      "p99_ms": round(times[int(n * 0.99)] * 1000, 2)}), flush=True)


def main():
    parley, src = os.path.realpath(sys.argv[1]), sys.argv[2]
    n = int(sys.argv[sys.argv.index("--requests") + 1]) if "--requests" in sys.argv else 200
    with tempfile.TemporaryDirectory(prefix="parley-voice-") as d:
        make_pki(d)
        srv = Server(parley, src, d)
        try:
            conversations(srv)
            verification(srv)
            asyncio.run(cross_channel(srv))
            asyncio.run(link_by_voice(srv))
            latency(srv, n)
        finally:
            code = srv.stop()
            check(code == 0, f"the server stops cleanly (exit {code})")
            if failures:
                print(open(f"{d}/server.log").read()[-3000:])
        insecure_mode(parley, src, d)
    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
