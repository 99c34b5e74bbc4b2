#!/usr/bin/python3
"""Several `parley serve` instances sharing one Redis, with real clients: a redis-server
started here (appendonly yes, appendfsync always), instance A with the web widget's
WebSocket, instance B with the app (HTTP) and voice (signed Alexa requests, a test CA made
with the openssl command). Checks:
  - an offer made on A is presented with the same terms on B (app and voice);
  - a decline on B reaches the widget on A within 100 ms, and also when A's subscription was
    cut just before (A loads the customer again once subscribed);
  - consent withdrawn on A stops personalisation on B;
  - 2 instances x 5,000 concurrent turns of the same customers from three channels: every
    acknowledged turn is one committed version, none lost;
  - Redis killed (-9) mid-load and restarted: errors while it is down, service after, no
    acknowledged turn lost;
  - Redis stuck (SIGSTOP): the instance still answers at once, the waiting turn fails after
    the timeout, and service resumes;
  - an instance killed (-9) while it holds a customer's lock: the other instance serves that
    customer once the lock has expired.

usage: test_cluster.py PARLEY SOURCE_DIR"""

import asyncio
import concurrent.futures
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websockets

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "voice"))
from test_alexa import (CERT_URL, SKILL, check, envelope, failures, free_text, make_pki,  # noqa: E402
                        sign, spoken, token_for)

SECRET = b"voice-test-secret-0123456789abcdef-xyz"  # test_alexa's token_for signs with it
BOTS = ["dialogs/camera-shop.en.yaml", "dialogs/camera-shop.de.yaml"]
OFFER_REQUEST = "I want a camera for travel, budget 900 euros"
FORMAL = ("With pleasure", "May I ask", "I beg your pardon", "Good day", "I would recommend")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- Redis

def resp(*args):
    out = f"*{len(args)}\r\n"
    for a in args:
        a = str(a)
        out += f"${len(a.encode())}\r\n{a}\r\n"
    return out.encode()


def redis_cmd(port, *args, timeout=2):
    """One command over a fresh connection; the reply as Python (str, int, None, list)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(resp(*args))
        f = s.makefile("rb")

        def read():
            line = f.readline().rstrip(b"\r\n")
            kind, rest = line[:1], line[1:].decode()
            if kind in (b"+", b"-"):
                return rest if kind == b"+" else RuntimeError(rest)
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                if n < 0:
                    return None
                data = f.read(n + 2)[:-2]
                return data.decode(errors="replace")
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [read() for _ in range(n)]
            raise RuntimeError(f"bad reply {line!r}")
        return read()


class Redis:
    def __init__(self, d):
        self.d, self.port, self.proc = d, free_port(), None

    def start(self):
        self.log = open(f"{self.d}/redis.log", "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.d,
             "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--maxmemory-policy", "noeviction"], stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                if redis_cmd(self.port, "PING") == "PONG":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def version(self, customer):
        v = redis_cmd(self.port, "HGET", f"parley:c:{customer}", "version")
        return int(v) if v else 0


# ---------------------------------------------------------------- parley instances

class Instance:
    def __init__(self, name, parley, src, d, redis_port, origins):
        self.name, self.d, self.port = name, d, free_port()
        self.log_path = f"{d}/{name}.log"
        self.args = [parley, "serve", "--listen", f"127.0.0.1:{self.port}",
                     "--store", f"redis://127.0.0.1:{redis_port}", "--jwt-secret-file",
                     f"{d}/secret", "--voice-skill-id", SKILL, "--voice-cert-cache", f"{d}/cache",
                     "--voice-ca", f"{d}/root.pem", "--rate-limit", "100", "--log-level", "info",
                     *[a for o in origins for a in ("--origin", o)], *BOTS]
        self.src = src
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, cwd=self.src, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                return self
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"instance {self.name} did not start:\n{self.tail()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return None

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def tail(self, n=30):
        try:
            return "".join(open(self.log_path, errors="replace").readlines()[-n:])
        except OSError:
            return ""

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    def app(self, token, obj):
        """(status, answer) of one app message over HTTP."""
        req = urllib.request.Request(f"{self.origin}/v1/app/messages", data=json.dumps(obj).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def voice(self, env):
        body = json.dumps(env).encode()
        req = urllib.request.Request(f"{self.origin}/v1/voice/alexa", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "SignatureCertChainUrl": CERT_URL,
                                              "Signature-256": sign(self.d, body)})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")


async def widget(inst, token, channel="web"):
    """A signed-in WebSocket past its hello; returns (ws, first state)."""
    ws = await websockets.connect(f"ws://127.0.0.1:{inst.port}/v1/ws", origin=inst.origin,
                                  subprotocols=["parley.v1"], ping_interval=None,
                                  max_size=4 * 1024 * 1024)
    await ws.send(json.dumps({"type": "hello", "v": 1, "channel": channel, "locale": "en",
                              "client_id": secrets.token_urlsafe(16), "token": token}))
    caps = json.loads(await asyncio.wait_for(ws.recv(), 5))
    state = json.loads(await asyncio.wait_for(ws.recv(), 5))
    if caps.get("type") != "capabilities" or state.get("type") != "state":
        raise SystemExit(f"hello on {inst.name} got {caps} {state}")
    return ws, state


async def say(ws, text, msg_id):
    """The reply to a message (pushed states before it are skipped), then the turn's state."""
    await ws.send(json.dumps({"type": "message", "id": msg_id, "text": text}))
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if m.get("in_reply_to") == msg_id:
            break
    state = json.loads(await asyncio.wait_for(ws.recv(), 10)) if m["type"] == "reply" else None
    return m, state


def texts(answer):
    return " ".join(m.get("text", "") for m in answer.get("messages", []))


def offers_in(answer):
    return [m["offer"] for m in answer.get("messages", []) if m.get("type") == "offer"]


# ---------------------------------------------------------------- the scenario

async def offer_decline_and_consent(a, b):
    token = token_for("cluster-alice")
    ws, _ = await widget(a, token)
    reply, _ = await say(ws, OFFER_REQUEST, "o1")
    made = offers_in(reply)
    check(len(made) == 1, f"A: the widget is made an offer ({texts(reply)[:80]!r})")
    offer = made[0]
    st, ans = b.app(token, {"text": "what was that offer again"})
    again = offers_in(ans) if st == 200 else []
    same = again and all(again[0].get(k) == offer.get(k)
                         for k in ("id", "title", "price", "currency", "valid_until", "terms"))
    check(st == 200 and same, f"B, app: the same offer with the same terms ({st} {again[:1]})")
    st, r = b.voice(envelope("cluster-alice-speaker", free_text("what was that offer again"),
                             token=token))
    words = spoken(r) if st == 200 else ""
    price = str(int(offer["price"])) if isinstance(offer.get("price"), (int, float)) else "849"
    check(st == 200 and price in words and offer["title"].split(" ")[0] in words,
          f"B, voice: the same offer said with the same price ({words[:120]!r})")
    t0 = time.monotonic()
    st, ans = await asyncio.to_thread(b.app, token, {"action": "decline_offer", "offer": offer["id"]})
    answered = (time.monotonic() - t0) * 1000
    took = None
    try:
        while took is None:
            m = json.loads(await asyncio.wait_for(ws.recv(), 2))
            if m.get("type") == "state" and any(o["id"] == offer["id"] and o["status"] == "declined"
                                                for o in m.get("offers", [])):
                took = (time.monotonic() - t0) * 1000
    except asyncio.TimeoutError:
        pass
    check(st == 200 and took is not None and took <= 100,
          f"B, app: declined; the widget on A shows it {took and round(took, 1)} ms after the "
          f"request was sent (B answered after {answered:.1f} ms; want within 100 ms)")
    await ws.close()

    token = token_for("cluster-bob")
    ws, _ = await widget(a, token)
    for i, line in enumerate(["Good afternoon. I would be grateful for your advice on buying a camera.",
                              "Thank you. I would appreciate a recommendation for about 900 euros.",
                              "Travel, please.", "Yes, please."]):
        reply, state = await say(ws, line, f"c{i}")
    check(state and state["consent"].get("personalisation") is True,
          f"A: consent given, in a formal conversation ({texts(reply)[:60]!r})")
    st, ans = b.app(token, {"text": "I am looking for a camera"})
    marks = [f for f in FORMAL if f in texts(ans)]
    check(st == 200 and marks, f"B, app: answered in the formal tone learnt on A ({marks})")
    reply, state = await say(ws, "stop personalising", "stop")
    check("no longer personalise" in texts(reply) and state["consent"].get("personalisation") is False,
          f"A: personalisation stopped ({texts(reply)[:60]!r})")
    st, ans = b.app(token, {"text": "I am looking for a camera"})
    check(st == 200 and not any(f in texts(ans) for f in FORMAL),
          f"B, app: no more formal tone from what A learnt ({texts(ans)[:80]!r})")
    await ws.close()


async def change_while_the_subscription_is_down(a, b, redis):
    """Redis drops A's subscription connection; B changes the customer before A has
    subscribed again: A loads the customer again once it has, so the widget still sees it."""
    token = token_for("cluster-resub")
    ws, _ = await widget(a, token)
    reply, state = await say(ws, OFFER_REQUEST, "r1")
    offer = offers_in(reply)[0]
    killed = redis_cmd(redis.port, "CLIENT", "KILL", "TYPE", "pubsub")
    t0 = time.monotonic()
    st, _ = await asyncio.to_thread(b.app, token, {"action": "decline_offer", "offer": offer["id"]})
    took = None
    try:
        while took is None:
            m = json.loads(await asyncio.wait_for(ws.recv(), 3))
            if m.get("type") == "state" and any(o["id"] == offer["id"] and o["status"] == "declined"
                                                for o in m.get("offers", [])):
                took = time.monotonic() - t0
    except asyncio.TimeoutError:
        pass
    check(killed >= 1 and st == 200 and took is not None and took < 2,
          f"a change made while A's subscription was cut ({killed} cut) still reaches the widget "
          f"on A, {took and round(took * 1000)} ms later")
    await ws.close()


# ---------------------------------------------------------------- load: 2 x 5,000 turns

async def http_post(port, path, body, headers):
    """(status, body) of one request on its own connection (no client library needed)."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    w.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n{head}\r\n".encode() + body)
    await w.drain()
    data = await asyncio.wait_for(r.read(), 15)
    w.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.split(b"\r\n\r\n", 1)[-1]


def signed_voice(d, sub, n):
    """n signed voice requests for sub's speaker, made before the clock starts."""
    token = token_for(sub)
    bodies = [json.dumps(envelope(f"{sub}-speaker", free_text("hello"), token=token)).encode()
              for _ in range(n)]
    return [(b, sign(d, b)) for b in bodies]


async def load(a, b, redis, d, customers=50, web=100, app=80, voice=20):
    subs = [f"load-{i:02d}" for i in range(customers)]
    tokens = {s: token_for(s) for s in subs}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        presigned = dict(zip(subs, pool.map(lambda s: signed_voice(d, s, voice + 1), subs)))
    # every channel user signs in (and is linked) once before the count starts
    sockets = {}
    for s in subs:
        sockets[s], _ = await widget(a, tokens[s])
        st, _ = await http_post(b.port, "/v1/app/messages", b'{"text":"hello"}',
                                {"Authorization": f"Bearer {tokens[s]}", "Content-Type": "application/json"})
        body, sig = presigned[s].pop()
        sv, _ = await http_post(b.port, "/v1/voice/alexa", body,
                                {"SignatureCertChainUrl": CERT_URL, "Signature-256": sig,
                                 "Content-Type": "application/json"})
        if st != 200 or sv != 200:
            raise SystemExit(f"warm-up for {s}: app {st}, voice {sv}")
    before = {s: redis.version(f"a:{s}") for s in subs}
    acked = {s: 0 for s in subs}
    errors = {"web": 0, "app": 0, "voice": 0}
    per_instance = {"A": 0, "B": 0}

    async def web_user(s):
        ws = sockets[s]
        for i in range(web):
            m, _ = await say(ws, random.choice(["hello", "about 900 euros", "travel"]), f"w{i}")
            if m["type"] == "reply":
                acked[s] += 1
                per_instance["A"] += 1
            else:
                errors["web"] += 1

    async def app_user(s):
        for i in range(app):
            st, _ = await http_post(b.port, "/v1/app/messages", b'{"text":"about 900 euros"}',
                                    {"Authorization": f"Bearer {tokens[s]}",
                                     "Content-Type": "application/json"})
            if st == 200:
                acked[s] += 1
                per_instance["B"] += 1
            else:
                errors["app"] += 1

    async def voice_user(s):
        for body, sig in presigned[s]:
            st, _ = await http_post(b.port, "/v1/voice/alexa", body,
                                    {"SignatureCertChainUrl": CERT_URL, "Signature-256": sig,
                                     "Content-Type": "application/json"})
            if st == 200:
                acked[s] += 1
                per_instance["B"] += 1
            else:
                errors["voice"] += 1

    t0 = time.monotonic()
    await asyncio.gather(*[f(s) for s in subs for f in (web_user, app_user, voice_user)])
    took = time.monotonic() - t0
    after = {s: redis.version(f"a:{s}") for s in subs}
    committed = sum(after[s] - before[s] for s in subs)
    lost = sum(max(0, acked[s] - (after[s] - before[s])) for s in subs)
    extra = sum(max(0, (after[s] - before[s]) - acked[s]) for s in subs)
    total = customers * (web + app + voice)
    check(per_instance["A"] == customers * web and per_instance["B"] == customers * (app + voice),
          f"load: {per_instance['A']} turns on A and {per_instance['B']} on B acknowledged, of "
          f"{customers * web} and {customers * (app + voice)} (errors {errors}) in {took:.1f} s "
          f"({total / took:.0f} turns/s)")
    check(lost == 0 and extra == 0 and committed == sum(acked.values()),
          f"load: {sum(acked.values())} acknowledged turns, {committed} committed versions: "
          f"{lost} lost, {extra} unacknowledged")
    for ws in sockets.values():
        await ws.close()


# ---------------------------------------------------------------- Redis killed and restarted

async def redis_restart(a, b, redis, customers=10, seconds=7.0, down_at=2.0, up_at=3.5):
    subs = [f"restart-{i:02d}" for i in range(customers)]
    tokens = {s: token_for(s) for s in subs}
    sockets = {s: (await widget(a, tokens[s]))[0] for s in subs}
    for s in subs:
        st, _ = await http_post(b.port, "/v1/app/messages", b'{"text":"hello"}',
                                {"Authorization": f"Bearer {tokens[s]}", "Content-Type": "application/json"})
    before = {s: redis.version(f"a:{s}") for s in subs}
    acked = {s: 0 for s in subs}
    tried = {s: 0 for s in subs}
    phases = {"before": [0, 0], "down": [0, 0], "after": [0, 0]}  # [acked, failed]
    t0 = time.monotonic()
    state = {"phase": "before"}

    def note(ok):
        phases[state["phase"]][0 if ok else 1] += 1

    async def web_user(s):
        i = 0
        while time.monotonic() - t0 < seconds:
            i += 1
            tried[s] += 1
            try:
                m, _ = await say(sockets[s], "about 900 euros", f"r{i}")
                ok = m["type"] == "reply"
            except (asyncio.TimeoutError, websockets.exceptions.ConnectionClosed):
                ok = False
            acked[s] += ok
            note(ok)
            await asyncio.sleep(0.1)

    async def app_user(s):
        while time.monotonic() - t0 < seconds:
            tried[s] += 1
            try:
                st, _ = await http_post(b.port, "/v1/app/messages", b'{"text":"about 900 euros"}',
                                        {"Authorization": f"Bearer {tokens[s]}",
                                         "Content-Type": "application/json"})
            except (OSError, asyncio.TimeoutError):
                st = 0
            acked[s] += st == 200
            note(st == 200)
            await asyncio.sleep(0.1)

    async def chaos():
        await asyncio.sleep(down_at)
        state["phase"] = "down"
        redis.kill()
        await asyncio.sleep(up_at - down_at)
        redis.start()
        await asyncio.sleep(0.8)  # reconnects, and the lock of a turn cut off expires
        state["phase"] = "after"

    await asyncio.gather(chaos(), *[f(s) for s in subs for f in (web_user, app_user)])
    after = {s: redis.version(f"a:{s}") for s in subs}
    lost = sum(max(0, acked[s] - (after[s] - before[s])) for s in subs)
    check(phases["down"][1] > 0,
          f"while Redis is down, turns fail with 'try again' ({phases['down'][1]} failed, "
          f"{phases['down'][0]} went through before it noticed)")
    check(phases["after"][0] > 0 and phases["after"][1] <= 2 * 2 * customers,
          f"after Redis is back, full service without a restart ({phases['after'][0]} turns, "
          f"{phases['after'][1]} failed while reconnecting)")
    check(lost == 0, f"no acknowledged turn lost across the crash ({sum(acked.values())} "
          f"acknowledged, {sum(after[s] - before[s] for s in subs)} versions committed, {lost} lost)")
    for ws in sockets.values():
        await ws.close()


# ---------------------------------------------------------------- Redis stuck: the loop goes on

async def redis_stuck(a, redis):
    """Redis stopped (SIGSTOP: connections stay open, nothing answers): the instance keeps
    serving what needs no store, a turn fails with 'try again' after the timeout, and turns
    work again once Redis goes on."""
    token = token_for("cluster-stuck")
    ws, _ = await widget(a, token)
    await say(ws, "hello", "s0")
    os.kill(redis.proc.pid, signal.SIGSTOP)
    try:
        await ws.send(json.dumps({"type": "message", "id": "s1", "text": "about 900 euros"}))
        t0 = time.monotonic()
        spoken_reply = asyncio.ensure_future(asyncio.to_thread(
            a.voice, envelope("cluster-stuck-speaker", free_text("about 900 euros"), token=token)))
        with await asyncio.to_thread(urllib.request.urlopen, f"{a.origin}/healthz", timeout=5) as r:
            status = r.status
        health = time.monotonic() - t0
        check(status == 200 and health < 0.5,
              f"while Redis is stuck, the instance still answers at once (/healthz {status} "
              f"in {health * 1000:.0f} ms)")
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if m.get("in_reply_to") == "s1":
                break
        took = time.monotonic() - t0
        check(m.get("type") == "error" and m.get("code") == "unavailable" and took < 3.5,
              f"…and the turn waiting for Redis gets 'unavailable' after {took:.2f} s "
              f"({m.get('type')} {m.get('code')})")
        st, r = await spoken_reply
        words = spoken(r) if st == 200 else ""
        check(st == 200 and "try again" in words and r["response"]["shouldEndSession"] is False,
              f"…and by voice the customer hears it, the session staying open ({st} {words[:90]!r})")
    finally:
        os.kill(redis.proc.pid, signal.SIGCONT)
    await asyncio.sleep(0.5)
    m, _ = await say(ws, "about 900 euros", "s2")
    check(m.get("type") == "reply", f"…and once Redis goes on, turns work again ({m.get('type')})")
    await ws.close()


# ---------------------------------------------------------------- an instance killed holding a lock

async def lock_holder_killed(b, make_instance, redis):
    sub = "cluster-lock"
    token = token_for(sub)
    caught = None
    for attempt in range(40):
        c = make_instance(f"C{attempt}").start()
        try:
            ws, _ = await widget(c, token)
            for i in range(30):  # pipelined: C takes turn after turn, holding the lock often
                await ws.send(json.dumps({"type": "message", "id": f"p{i}", "text": "about 900 euros"}))
            await asyncio.sleep(random.uniform(0.005, 0.03))
            c.kill()
            if redis_cmd(redis.port, "EXISTS", f"parley:lk:a:{sub}") == 1:
                caught = attempt + 1
                break
        finally:
            if c.proc.poll() is None:
                c.kill()
    if not check(caught is not None, f"an instance was killed (-9) holding the customer's lock "
                 f"(after {caught} tries)"):
        return
    ttl = redis_cmd(redis.port, "PTTL", f"parley:lk:a:{sub}")
    t0 = time.monotonic()
    st, ans = await asyncio.to_thread(b.app, token, {"text": "about 900 euros"})
    took = time.monotonic() - t0
    check(st == 200 and took <= 6.5,
          f"B serves that customer once the dead holder's lock expired ({st}, after {took:.2f} s; "
          f"the lock had {ttl} ms left)")


def main():
    parley, src = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="parley-cluster-") as d:
        make_pki(d)
        with open(f"{d}/secret", "wb") as f:
            f.write(SECRET)
        redis = Redis(d)
        redis.start()
        instances = []

        def make(name):
            inst = Instance(name, parley, src, d, redis.port, [])
            inst.args += ["--origin", inst.origin]
            instances.append(inst)
            return inst

        a, b = make("A").start(), make("B").start()
        try:
            asyncio.run(offer_decline_and_consent(a, b))
            asyncio.run(change_while_the_subscription_is_down(a, b, redis))
            asyncio.run(load(a, b, redis, d))
            asyncio.run(redis_restart(a, b, redis))
            asyncio.run(redis_stuck(a, redis))
            asyncio.run(lock_holder_killed(b, make, redis))
            m = urllib.request.urlopen(f"{a.origin}/metrics", timeout=5).read().decode()
            outages = re.search(r"^parley_store_outages_total (\d+)", m, re.M)
            failed = re.search(r"^parley_store_failures_total (\d+)", m, re.M)
            check(outages and int(outages.group(1)) >= 1 and failed and int(failed.group(1)) > 0
                  and "parley_store_up 1" in m,
                  f"A's /metrics counted the Redis outage ({outages and outages.group(0)}, "
                  f"{failed and failed.group(0)}), and the store is up again")
            log = open(a.log_path, errors="replace").read()
            check("the store does not answer" in log and "the store answers again" in log,
                  "A logged the outage and the recovery, once each way")
        finally:
            for inst in (a, b):
                code = inst.stop()
                check(code == 0, f"instance {inst.name} stops cleanly (exit {code})")
            for inst in instances:
                if inst.proc and inst.proc.poll() is None:
                    inst.kill()
            if failures:
                for inst in (a, b):
                    print(f"--- {inst.name} log ---\n{inst.tail()}")
            if redis.proc and redis.proc.poll() is None:
                redis.kill()
    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
