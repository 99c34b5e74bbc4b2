#!/usr/bin/env python3
"""Integration tests of `parley serve` with real clients, against channels/README.md.

Starts the real server on a free loopback port (SQLite store, a 40-byte signing secret,
both demo bots), talks to it over WebSocket protocol v1 (python3-websockets), plain HTTP
(urllib) and curl, and stops it with SIGTERM. Prints one PASS/FAIL line per test and
exits 1 when any test failed.

Usage: test_protocol.py PARLEY SOURCE_DIR [TEST_NAME_SUBSTRING...]
"""

import asyncio
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

import websockets
import websockets.exceptions
from websockets.frames import Frame, Opcode

BOTS = ["dialogs/camera-shop.en.yaml", "dialogs/camera-shop.de.yaml"]
MAX_FRAME = 64 * 1024
EN_BUDGET_QUESTION = "What is your budget, roughly?"
DE_BUDGET_QUESTION = "Wie viel möchten Sie ungefähr ausgeben?"
OFFER_REQUEST = "I want a camera for travel, budget {} euros"


# ---------------------------------------------------------------- results and assertions

class Failure(Exception):
    """A test's expectation was not met; the message says what and what came instead."""


def expect(cond, what):
    if not cond:
        raise Failure(what)


def short(obj, limit=400):
    text = obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


NOTES = []


def note(text):
    """Records what the server did where channels/README.md leaves a choice."""
    NOTES.append(text)
    print(f"    note: {text}")


# ---------------------------------------------------------------- identity tokens (HS256)

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(sub, secret, expires_in=3600, alg="HS256", claims=None):
    """A JWT signed like the shop's login would; alg "none" gives an unsigned token."""
    now = int(time.time())
    payload = {"sub": sub, "iat": now, "exp": now + expires_in}
    payload.update(claims or {})
    payload = {k: v for k, v in payload.items() if v is not None}
    head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    signing_input = f"{head}.{body}".encode()
    sig = b"" if alg == "none" else hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def new_client_id():
    return secrets.token_urlsafe(16)  # 22 characters of A–Z a–z 0–9 _ -


# ---------------------------------------------------------------- the server process

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `parley serve` process on its own port, store and log file."""

    started = []  # every server this run started, so none outlives it

    def __init__(self, parley, cwd, bots, workdir, name, secret_file, args=None, env=None):
        """With args, those options instead of the usual ones; the port then comes from the
        server's "listening on" line (args may say --listen 127.0.0.1:0)."""
        self.port = None if args else free_port()
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.args = [parley, "serve", *(args or [
            "--store", f"sqlite:{workdir}/{name}.db", "--jwt-secret-file", secret_file,
            "--origin", f"http://127.0.0.1:{self.port}", *bots, "--listen", f"127.0.0.1:{self.port}"])]
        self.cwd = cwd
        self.env = env
        self.proc = None

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    base = origin

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    def start(self, timeout=15):
        with open(self.log_path, "wb") as log:
            try:
                self.proc = subprocess.Popen(self.args, cwd=self.cwd, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT,
                                             env=None if self.env is None else {**os.environ, **self.env})
            except OSError as e:
                raise Failure(f"cannot start {self.args[0]} in {self.cwd}: {e}")
        Server.started.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"parley serve exited with {self.proc.returncode} before it "
                              f"answered /healthz:\n{self.log_tail()}")
            if self.port is None:
                with open(self.log_path, errors="replace") as f:
                    m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
                self.port = int(m.group(1)) if m else None
            try:
                if self.port and http_request(self, "GET", "/healthz", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise Failure(f"/healthz did not answer 200 within {timeout} s:\n{self.log_tail()}")

    def stop(self, timeout=5):
        """SIGTERM; returns the exit status, or None when it had to be killed."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join("      | " + line for line in f.readlines()[-lines:])
        except OSError:
            return "      (no log)"


# ---------------------------------------------------------------- HTTP helpers

def http_request(server, method, path, body=None, headers=None, timeout=10):
    """(status, headers, body bytes) for one request; HTTP errors are answers, not raised."""
    req = urllib.request.Request(server.base + path, data=body, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def http_json(server, method, path, obj=None, token=None, raw=None):
    """Sends obj (or raw bytes) as JSON; returns (status, parsed JSON body)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body = raw if raw is not None else (None if obj is None else json.dumps(obj).encode())
    status, resp_headers, data = http_request(server, method, path, body, headers)
    ctype = resp_headers.get("Content-Type", "")
    expect(ctype.startswith("application/json"),
           f"{method} {path} -> {status} with Content-Type {ctype!r}, not application/json: "
           f"{short(data.decode(errors='replace'))}")
    try:
        parsed = json.loads(data)
    except ValueError:
        raise Failure(f"{method} {path} -> {status}, body is not JSON: {short(data.decode(errors='replace'))}")
    return status, parsed


def expect_http_error(status, body, want_status, what, code=None):
    expect(status == want_status, f"{what}: status {status}, want {want_status}; body {short(body)}")
    expect(isinstance(body, dict) and body.get("type") == "error" and
           isinstance(body.get("code"), str) and isinstance(body.get("message"), str),
           f"{what}: body is not {{\"type\":\"error\",\"code\":…,\"message\":…}}: {short(body)}")
    if code is not None:
        expect(body["code"] == code, f"{what}: code {body['code']!r}, want {code!r}")


def metrics_samples(server):
    """GET /metrics parsed as Prometheus text: a list of (name, labels dict, value)."""
    status, headers, data = http_request(server, "GET", "/metrics")
    expect(status == 200, f"GET /metrics -> {status}")
    ctype = headers.get("Content-Type", "")
    expect(ctype.startswith("text/plain"), f"GET /metrics Content-Type {ctype!r}, want text/plain")
    samples = []
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
    for line in data.decode().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = line_re.match(line)
        expect(m is not None, f"/metrics line is not Prometheus text format: {line!r}")
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        try:
            value = float(m.group(3))
        except ValueError:
            raise Failure(f"/metrics value is not a number: {line!r}")
        samples.append((m.group(1), labels, value))
    return samples


def metric_sum(samples, name, **labels):
    return sum(v for n, l, v in samples
               if n == name and all(l.get(k) == want for k, want in labels.items()))


def reload_samples(samples):
    return {(n, tuple(sorted(l.items()))): v for n, l, v in samples if "reload" in n}


def failed_reloads(samples):
    return sum(v for n, l, v in samples if "reload" in n and
               ("fail" in n or "error" in n or
                any("fail" in x or "error" in x for x in l.values())))


# ---------------------------------------------------------------- WebSocket client

class Client:
    """One WebSocket connection that speaks JSON frames and keeps what it skipped."""

    def __init__(self, ws):
        self.ws = ws
        self.seen = []  # every frame received, for failure messages

    async def send(self, obj):
        """A dict goes out as JSON; str and bytes as they are; a list as fragments of one message."""
        await self.ws.send(json.dumps(obj) if isinstance(obj, dict) else obj)

    async def recv(self, timeout=5):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        expect(isinstance(raw, str), f"server sent a binary frame: {raw[:80]!r}")
        try:
            obj = json.loads(raw)
        except ValueError:
            raise Failure(f"server sent a frame that is not JSON: {short(raw)}")
        expect(isinstance(obj, dict) and "type" in obj, f"server frame without type: {short(raw)}")
        self.seen.append(obj)
        return obj

    async def wait_for(self, pred, what, timeout=5):
        """The first frame for which pred is true; other frames are skipped (kept in seen)."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise asyncio.TimeoutError
                obj = await self.recv(left)
                if pred(obj):
                    return obj
        except asyncio.TimeoutError:
            raise Failure(f"no {what} within {timeout} s; got {short(self.seen[start:])}")
        except websockets.exceptions.ConnectionClosed:
            raise Failure(f"connection closed ({self.ws.close_code} {self.ws.close_reason!r}) "
                          f"while waiting for {what}; got {short(self.seen[start:])}")

    async def answer(self, msg_id, timeout=10):
        """The reply, pong or error whose in_reply_to is msg_id (pushed state is skipped)."""
        return await self.wait_for(lambda o: o.get("in_reply_to") == msg_id,
                                   f"answer to {msg_id!r}", timeout)

    async def request(self, obj, timeout=10):
        await self.send(obj)
        return await self.answer(obj["id"], timeout)

    async def say(self, text, msg_id, timeout=10):
        """Sends a message and wants a reply (not an error) to it."""
        ans = await self.request({"type": "message", "id": msg_id, "text": text}, timeout)
        expect(ans.get("type") == "reply", f"message {msg_id!r} got {short(ans)}, want a reply")
        expect(isinstance(ans.get("messages"), list) and ans["messages"],
               f"reply without messages: {short(ans)}")
        return ans

    async def state_after_reply(self, what):
        """The frame right after a reply: README says the turn's state comes next."""
        state = await self.wait_for(lambda o: True, f"state after the reply to {what}")
        expect(state.get("type") == "state", f"after the reply to {what} came {short(state)}, "
               f"want the turn's state")
        return state

    async def hello(self, channel="web", client_id=None, **fields):
        """Sends hello; wants capabilities and then state. Returns both."""
        msg = {"type": "hello", "v": 1, "channel": channel,
               "client_id": client_id or new_client_id()}
        msg.update(fields)
        msg = {k: v for k, v in msg.items() if v is not None}
        await self.send(msg)
        caps = await self.wait_for(lambda o: True, "capabilities after hello")
        expect(caps.get("type") == "capabilities", f"first answer to hello: {short(caps)}")
        state = await self.wait_for(lambda o: True, "state after capabilities")
        expect(state.get("type") == "state", f"second answer to hello: {short(state)}")
        return caps, state

    async def error(self, code, what, timeout=5):
        """The next error frame; wants it to have this code."""
        err = await self.wait_for(lambda o: o.get("type") == "error", f"error {code} ({what})",
                                  timeout)
        expect(err.get("code") == code, f"{what}: error {short(err)}, want code {code!r}")
        expect(isinstance(err.get("message"), str) and err["message"],
               f"{what}: error without a message: {short(err)}")
        return err

    async def close_code(self, timeout=5):
        """Reads until the server closes; the close code, or None if it stayed open."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                raw = await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic())
                self.seen.append(raw)
        except websockets.exceptions.ConnectionClosed:
            return self.ws.close_code
        except asyncio.TimeoutError:
            pass
        return None

    async def still_open(self):
        pong = await self.request({"type": "ping", "id": "alive?"}, timeout=5)
        expect(pong.get("type") == "pong", f"ping after the error got {short(pong)}")

    async def close(self):
        await self.ws.close()


DEFAULT = object()


async def connect(server, origin=DEFAULT, subprotocol="parley.v1"):
    ws = await websockets.connect(
        server.ws_url, origin=server.origin if origin is DEFAULT else origin,
        subprotocols=[subprotocol] if subprotocol else None,
        open_timeout=5, close_timeout=2, ping_interval=None, max_size=4 * 1024 * 1024)
    return Client(ws)


async def greeted(server, **hello):
    """A connection that has said hello (on the web channel unless told)."""
    c = await connect(server)
    await c.hello(**hello)
    return c


def texts(reply):
    return " ".join(m.get("text", "") for m in reply.get("messages", []))


def offer_in(reply):
    offers = [m for m in reply["messages"] if m.get("type") == "offer"]
    expect(offers, f"no message of type offer in the reply: {short(reply)}")
    return offers[0]["offer"]


def offer_status(state, offer_id):
    for o in state.get("offers") or []:
        if o.get("id") == offer_id:
            return o.get("status")
    return None


async def make_offer(c, msg_id="o1"):
    reply = await c.say(OFFER_REQUEST.format(900), msg_id)
    return offer_in(reply)


# ---------------------------------------------------------------- the tests

TESTS = []


def test(timeout=60):
    def register(fn):
        fn.timeout = timeout
        TESTS.append(fn)
        return fn
    return register


class Ctx:
    server = None
    secret = b""
    workdir = ""
    secret_file = ""
    parley = ""
    source = ""


# 1. hello

@test()
async def hello_answers_capabilities_then_state():
    c = await connect(Ctx.server)
    expect(c.ws.subprotocol == "parley.v1",
           f"subprotocol parley.v1 offered, server chose {c.ws.subprotocol!r}")
    caps, state = await c.hello()
    expect(caps.get("v") == 1, f"capabilities v {caps.get('v')!r}, want 1")
    expect(caps.get("bot") == "camera-shop-en", f"default bot {caps.get('bot')!r}, want the first")
    expect(caps.get("signed_in") is False, f"signed_in {caps.get('signed_in')!r} without token")
    m = caps.get("manifest") or {}
    expect(m.get("bot", {}).get("automated") is True, f"manifest.bot.automated: {short(m)}")
    expect(m.get("bot", {}).get("id") == "camera-shop-en", f"manifest.bot.id: {short(m)}")
    expect(isinstance(m.get("disclosure"), str) and "automated" in m["disclosure"],
           f"manifest.disclosure: {m.get('disclosure')!r}")
    expect(m.get("channel") == "web" and m.get("language") == "en",
           f"manifest channel/language: {m.get('channel')!r}/{m.get('language')!r}")
    for key in ("can", "elsewhere", "cannot"):
        expect(isinstance(m.get(key), list), f"manifest.{key} is not a list: {short(m)}")
    expect(isinstance(state.get("offers"), list) and state["offers"] == [],
           f"a new customer's state has offers {state.get('offers')!r}, want []")
    expect(state.get("signed_in") is False, f"state.signed_in {state.get('signed_in')!r}")
    expect(isinstance(state.get("consent"), dict), f"state.consent {state.get('consent')!r}")
    await c.close()


@test()
async def hello_works_without_subprotocol():
    c = await connect(Ctx.server, subprotocol=None)
    expect(c.ws.subprotocol is None, f"server picked subprotocol {c.ws.subprotocol!r}")
    caps, _ = await c.hello()
    expect(caps["manifest"]["bot"]["automated"] is True, "manifest not automated")
    reply = await c.say("hello", "m1")
    expect(reply["in_reply_to"] == "m1", "in_reply_to")
    await c.close()


@test()
async def hello_locale_and_bot_pick_the_bot():
    for fields, want in (({"locale": "de"}, "camera-shop-de"), ({"locale": "en"}, "camera-shop-en"),
                         ({"locale": "en", "bot": "camera-shop-de"}, "camera-shop-de")):
        c = await connect(Ctx.server)
        caps, _ = await c.hello(**fields)
        expect(caps.get("bot") == want, f"hello {fields}: bot {caps.get('bot')!r}, want {want}")
        if want.endswith("-de"):
            expect(caps["manifest"].get("language") == "de", "German manifest language")
            expect("kein Mensch" in caps["manifest"].get("disclosure", ""),
                   f"German disclosure: {caps['manifest'].get('disclosure')!r}")
        await c.close()


# 2. messages

@test()
async def message_gets_reply_with_in_reply_to():
    c = await greeted(Ctx.server)
    reply = await c.say("I want a camera", "m1")
    expect(reply["in_reply_to"] == "m1", f"in_reply_to {reply.get('in_reply_to')!r}")
    first = reply["messages"][0]
    expect(first.get("type") == "capabilities" and "automated" in first.get("text", ""),
           f"the first reply on a channel starts with the disclosure: {short(first)}")
    expect(EN_BUDGET_QUESTION in texts(reply), f"budget question missing: {short(reply)}")
    await c.state_after_reply("m1")
    for m in reply["messages"]:
        expect(m.get("type") in ("capabilities", "text", "offer", "handoff"), f"message type: {short(m)}")
        expect(isinstance(m.get("text"), str) and isinstance(m.get("tone"), str),
               f"message without text or tone: {short(m)}")
    second = await c.say("900 euros", "m2")
    expect(all(m.get("type") != "capabilities" for m in second["messages"]),
           f"the disclosure came again on the second reply: {short(second)}")
    await c.close()


@test()
async def german_locale_asks_the_budget_in_german():
    c = await greeted(Ctx.server, locale="de")
    reply = await c.say("Ich suche eine Kamera", "m1")
    expect(DE_BUDGET_QUESTION in texts(reply), f"German budget question missing: {short(reply)}")
    await c.close()


@test()
async def offer_flow_sends_an_offer_card():
    c = await greeted(Ctx.server)
    reply = await c.say(OFFER_REQUEST.format(900), "m1")
    offer = offer_in(reply)
    expect(offer.get("id") == "starter_kit", f"offer id {offer.get('id')!r}")
    expect(isinstance(offer.get("title"), str) and offer["title"], f"offer title: {short(offer)}")
    expect(isinstance(offer.get("price"), (int, float)) and offer["price"] > 0, f"price: {short(offer)}")
    expect(offer.get("currency") == "EUR", f"currency: {short(offer)}")
    expect(isinstance(offer.get("valid_until"), int) and offer["valid_until"] > time.time() * 1000,
           f"valid_until is not a future time in ms: {short(offer)}")
    await c.close()


# 3. actions and pushed state

async def action_pushes_state_to_second_connection(hello_a, hello_b, action, want_status):
    a = await greeted(Ctx.server, **hello_a)
    offer = await make_offer(a)
    b = await connect(Ctx.server)
    _, state_b = await b.hello(**hello_b)
    expect(offer_status(state_b, offer["id"]) == "open",
           f"second connection's state after hello: {short(state_b)}, want offer {offer['id']} open")
    times = {}

    async def on_a():
        ans = await a.request({"type": "action", "id": "a1", "action": action, "offer": offer["id"]})
        times["reply"] = time.monotonic()
        return ans

    async def on_b():
        st = await b.wait_for(lambda o: o.get("type") == "state" and
                              offer_status(o, offer["id"]) == want_status,
                              f"pushed state with {offer['id']} {want_status}", timeout=3)
        times["push"] = time.monotonic()
        return st

    reply, _ = await asyncio.gather(on_a(), on_b())
    expect(reply.get("type") == "reply", f"{action} got {short(reply)}, want a reply")
    own = await a.state_after_reply(action)
    expect(offer_status(own, offer["id"]) == want_status, f"own state after {action}: {short(own)}")
    delay = times["push"] - times["reply"]
    expect(delay <= 0.1, f"state pushed {delay * 1000:.0f} ms after the reply, want <= 100 ms")
    note(f"{action}: state pushed {delay * 1000:+.1f} ms relative to the reply")
    await a.close()
    await b.close()


@test()
async def accept_offer_pushes_state_to_same_client_id():
    cid = new_client_id()
    await action_pushes_state_to_second_connection({"client_id": cid}, {"client_id": cid},
                                                   "accept_offer", "accepted")


@test()
async def decline_offer_pushes_state_to_same_token_on_app():
    token = make_token("ws-app-" + secrets.token_hex(4), Ctx.secret)
    await action_pushes_state_to_second_connection({"channel": "app", "token": token},
                                                   {"channel": "app", "token": token},
                                                   "decline_offer", "declined")


@test()
async def accepted_offer_is_in_state_of_a_later_connection():
    cid = new_client_id()
    a = await greeted(Ctx.server, client_id=cid)
    offer = await make_offer(a)
    ans = await a.request({"type": "action", "id": "a1", "action": "accept_offer", "offer": offer["id"]})
    expect(ans.get("type") == "reply", f"accept_offer got {short(ans)}")
    await a.close()
    b = await connect(Ctx.server)
    _, state = await b.hello(client_id=cid)
    expect(offer_status(state, offer["id"]) == "accepted", f"state on reconnect: {short(state)}")
    await b.close()


@test()
async def same_client_id_continues_the_conversation():
    cid = new_client_id()
    a = await greeted(Ctx.server, client_id=cid)
    expect(EN_BUDGET_QUESTION in texts(await a.say("I want a camera", "m1")), "budget question")
    await a.close()
    b = await greeted(Ctx.server, client_id=cid)
    reply = await b.say("900 euros", "m2")
    expect("photograph" in texts(reply), f"the next visit did not continue the flow: {short(reply)}")
    await b.close()


@test()
async def signing_in_merges_what_was_done_anonymously():
    cid = new_client_id()
    anon = await greeted(Ctx.server, client_id=cid)
    offer = await make_offer(anon)
    await anon.close()
    token = make_token("merge-" + secrets.token_hex(4), Ctx.secret)
    web = await connect(Ctx.server)
    caps, state = await web.hello(client_id=cid, token=token)
    expect(caps.get("signed_in") is True and state.get("signed_in") is True,
           f"signed_in after hello with token: {short(caps)} / {short(state)}")
    expect(offer_status(state, offer["id"]) == "open", f"anonymous offer not merged: {short(state)}")
    await web.close()
    app = await connect(Ctx.server)
    _, state = await app.hello(channel="app", token=token)
    expect(offer_status(state, offer["id"]) == "open",
           f"the app channel of the same account does not see the offer: {short(state)}")
    await app.close()


@test()
async def link_code_action_links_a_device_to_the_account():
    account = await greeted(Ctx.server, token=make_token("link-" + secrets.token_hex(4), Ctx.secret))
    offer = await make_offer(account)
    reply = await account.say("link my voice assistant", "l1")
    m = re.search(r"\b(\d{3}) ?(\d{3})\b", texts(reply))
    expect(m, f"no six-digit link code in the reply: {short(reply)}")
    await account.close()
    cid = new_client_id()
    device = await greeted(Ctx.server, client_id=cid)
    wrong = "000000" if m.group(1) + m.group(2) != "000000" else "111111"
    reply = await device.request({"type": "action", "id": "k1", "action": "link_code", "code": wrong})
    expect(reply.get("type") == "reply" and "did not work" in texts(reply), f"wrong code: {short(reply)}")
    reply = await device.request({"type": "action", "id": "k2", "action": "link_code",
                                  "code": m.group(1) + m.group(2)})
    expect(reply.get("type") == "reply" and "linked" in texts(reply), f"right code: {short(reply)}")
    await device.close()
    again = await connect(Ctx.server)
    _, state = await again.hello(client_id=cid)
    expect(offer_status(state, offer["id"]) == "open", f"the linked device does not see the "
           f"account's offer: {short(state)}")
    await again.close()


@test()
async def app_over_websocket_and_http_is_one_channel_user():
    token = make_token("app-both-" + secrets.token_hex(4), Ctx.secret)
    ws = await greeted(Ctx.server, channel="app", token=token)
    expect(EN_BUDGET_QUESTION in texts(await ws.say("I want a camera", "m1")), "budget question")
    status, body = http_json(Ctx.server, "POST", "/v1/app/messages", {"text": "900 euros"}, token=token)
    expect(status == 200 and "photograph" in texts(body),
           f"the HTTP app turn did not continue the WebSocket app conversation: {status} {short(body)}")
    await ws.close()


@test()
async def one_customer_on_two_connections_at_once_loses_no_turn():
    cid = new_client_id()
    a, b = await greeted(Ctx.server, client_id=cid), await greeted(Ctx.server, client_id=cid)

    async def talk(c, tag):
        for k in range(5):
            await c.send({"type": "message", "id": f"{tag}{k}", "text": "hello"})
        return [await c.answer(f"{tag}{k}") for k in range(5)]

    answers = sum(await asyncio.gather(talk(a, "a"), talk(b, "b")), [])
    wrong = [x for x in answers if x.get("type") != "reply"]
    expect(not wrong, f"turns of one customer at once: {short(wrong)}")
    await a.close()
    await b.close()


@test()
async def quick_reply_action_is_like_sending_its_text():
    c = await greeted(Ctx.server)
    await c.say("I want a camera", "m1")
    reply = await c.say("900 euros", "m2")
    buttons = [q for m in reply["messages"] for q in m.get("quick_replies", [])]
    expect("Travel" in buttons, f"no quick reply Travel after the budget: {short(reply)}")
    reply = await c.request({"type": "action", "id": "q1", "action": "quick_reply", "text": "Travel"})
    expect(reply.get("type") == "reply", f"quick_reply got {short(reply)}")
    expect(offer_in(reply).get("id") == "starter_kit", f"quick_reply Travel: {short(reply)}")
    await c.close()


# 4. protocol errors

@test()
async def ping_pong_and_unknown_type():
    c = await greeted(Ctx.server)
    pong = await c.request({"type": "ping", "id": "p1"})
    expect(pong == {"type": "pong", "in_reply_to": "p1"}, f"ping got {short(pong)}")
    await c.send({"type": "shout", "id": "x1"})
    err = await c.error("unknown_type", "type shout")
    expect(err.get("in_reply_to") == "x1", f"unknown_type without in_reply_to x1: {short(err)}")
    expect("shout" in err["message"], f"message does not name the type: {err['message']!r}")
    await c.still_open()
    await c.close()


@test()
async def every_id_comes_back_or_is_refused():
    """README: any id comes back as in_reply_to. An id the server will not echo (too long,
    not a string) must at least be refused with an error, not silently dropped."""
    c = await greeted(Ctx.server)
    for msg_id in ("i" * 64, "i" * 200, 42):
        await c.send({"type": "ping", "id": msg_id})
        ans = await c.wait_for(lambda o: o.get("type") in ("pong", "error"), f"answer to id {msg_id!r:.20}")
        echoed = ans.get("in_reply_to") == msg_id
        refused = ans.get("type") == "error" and ans.get("code") == "bad_request"
        expect(echoed or refused, f"ping with id {short(json.dumps(msg_id), 30)} got {short(ans, 120)}: "
               f"neither in_reply_to nor error bad_request")
    await c.close()


@test()
async def pipelined_pings_from_a_reading_client_are_all_answered():
    """A client that reads while it sends 100 pings at once (pings are not rate-limited) is
    no client "that does not read what it is sent" and must not be closed."""
    c = await greeted(Ctx.server)
    n = 100
    got = []

    async def read():
        while len(got) < n:
            got.append(await c.recv(10))

    reader = asyncio.create_task(read())
    # One write of all frames, so the server reads them in one go, as from a fast network.
    c.ws.transport.write(b"".join(
        Frame(Opcode.TEXT, json.dumps({"type": "ping", "id": f"p{i}"}).encode()).serialize(mask=True)
        for i in range(n)))
    try:
        await asyncio.wait_for(reader, 20)
    except websockets.exceptions.ConnectionClosed:
        pass
    reader.cancel()
    expect(len(got) == n, f"{n} pings, {len(got)} answers, then close code {c.ws.close_code}")
    expect([f.get("in_reply_to") for f in got] == [f"p{i}" for i in range(n)], "pongs out of order")
    await c.close()


@test()
async def slow_and_half_open_clients_do_not_hold_up_others():
    # a half-open handshake: the request line and no more, the socket left open
    raw = socket.create_connection(("127.0.0.1", Ctx.server.port))
    raw.sendall(b"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    # a client that asks and asks but never reads what comes back
    deaf = await greeted(Ctx.server)
    for i in range(400):
        await deaf.send({"type": "ping", "id": f"d{i}"})
    try:
        other = await greeted(Ctx.server)
        started = time.monotonic()
        for i in range(5):
            await other.say("I am looking for a camera", f"o{i}")
        took = time.monotonic() - started
        expect(took < 2, f"5 turns of another client took {took:.1f} s next to a slow one")
        note(f"5 turns beside a half-open and a non-reading client: {took * 1000:.0f} ms")
        await other.ws.close()
    finally:
        raw.close()
        await deaf.ws.close()


@test()
async def message_before_hello_is_hello_first():
    c = await connect(Ctx.server)
    await c.send({"type": "message", "id": "m0", "text": "hi"})
    err = await c.error("hello_first", "message before hello")
    expect(err.get("in_reply_to") == "m0", f"hello_first without in_reply_to m0: {short(err)}")
    await c.hello()  # the connection stayed open and hello still works
    await c.say("hello", "m1")
    await c.close()


@test()
async def ping_before_hello_is_hello_first():
    c = await connect(Ctx.server)
    await c.send({"type": "ping", "id": "p0"})
    await c.error("hello_first", "ping before hello (README: anything but hello)")
    await c.close()


@test()
async def bad_hello_fields_are_named():
    c = await connect(Ctx.server)
    cid = new_client_id()
    cases = [("v", {"v": 2}), ("channel", {"channel": "fax"}), ("channel", {"channel": "voice"}),
             ("client_id", {"client_id": "a" * 15}), ("client_id", {"client_id": "a" * 65}),
             ("client_id", {"client_id": "has spaces in it!!"}), ("client_id", {"client_id": None}),
             ("bot", {"bot": "no-such-bot"})]
    for field, change in cases:
        msg = {"type": "hello", "v": 1, "channel": "web", "client_id": cid}
        msg.update(change)
        msg = {k: v for k, v in msg.items() if v is not None}
        await c.send(msg)
        err = await c.error("bad_hello", f"hello with {change}")
        named = re.search(r"\bv\b|version", err["message"]) if field == "v" else field in err["message"]
        expect(named, f"hello with {change}: message does not name {field}: {err['message']!r}")
    await c.hello(client_id=cid)  # still open: a good hello works
    await c.send({"type": "hello", "v": 1, "channel": "web", "client_id": cid})
    await c.error("bad_hello", "a second hello")
    await c.close()
    for n in (16, 64):  # the limits themselves are allowed
        c = await connect(Ctx.server)
        await c.hello(client_id=secrets.token_urlsafe(48)[:n])
        await c.close()


@test()
async def bad_json_and_nesting():
    c = await greeted(Ctx.server)
    await c.send('{"type": "ping", "id": ')
    err = await c.error("bad_json", "truncated JSON")
    expect(re.search(r"\d", err["message"]), f"bad_json message does not say where: {err['message']!r}")
    await c.send("[1, 2, 3]")
    await c.error("bad_json", "a JSON array")
    # The object itself is level 1: an object holding 31 nested arrays is 32 deep, the limit.
    for depth, want in ((40, "too_deep"), (33, "too_deep"), (32, "unknown_type"), (11, "unknown_type")):
        arrays = depth - 1
        await c.send('{"type": "shout", "id": "d", "x": ' + "[" * arrays + "]" * arrays + "}")
        err = await c.wait_for(lambda o: o.get("type") == "error", f"answer to {depth}-deep JSON")
        expect(err.get("code") == want, f"JSON {depth} deep: {short(err)}, want {want}")
    await c.still_open()
    await c.close()


@test()
async def invalid_utf8_text_frame_is_not_utf8():
    c = await greeted(Ctx.server)
    # websockets only sends valid text from str; write_frame puts raw bytes in a text frame.
    await c.ws.write_frame(True, Opcode.TEXT, b'{"type":"message","id":"u1","text":"caf\xc3"}')
    try:
        await c.error("not_utf8", "text frame with invalid UTF-8")
    except Failure as e:
        raise Failure(f"{e}; close code {c.ws.close_code}")
    await c.still_open()
    await c.close()


@test()
async def binary_frame_is_bad_json():
    c = await greeted(Ctx.server)
    await c.send(b'{"type":"ping","id":"b1"}')
    await c.error("bad_json", "a binary frame")
    await c.still_open()
    await c.close()


@test()
async def bad_requests_and_too_long_text():
    c = await greeted(Ctx.server)
    for msg, what in (({"id": "r0", "text": "hi"}, "frame without type"),
                      ({"type": "message", "id": "r1"}, "message without text"),
                      ({"type": "message", "id": "r2", "text": 42}, "text that is a number"),
                      ({"type": "action", "id": "r3", "action": "dance"}, "unknown action"),
                      ({"type": "action", "id": "r4", "action": "accept_offer"}, "accept_offer without offer")):
        err = await c.request(msg)
        expect(err.get("type") == "error" and err.get("code") == "bad_request",
               f"{what}: got {short(err)}, want error bad_request")
    # 4096 bytes of text are allowed, 4097 are not; "ä" is two bytes, so characters differ.
    ok = await c.request({"type": "message", "id": "t4096", "text": "ä" * 2048}, timeout=15)
    expect(ok.get("type") == "reply", f"4096 bytes of text: got {short(ok)}, want a reply")
    err = await c.request({"type": "message", "id": "t4097", "text": "ä" * 2048 + "a"})
    expect(err.get("type") == "error" and err.get("code") == "too_long",
           f"4097 bytes of text: got {short(err)}, want error too_long")
    await c.still_open()
    await c.close()


# 5. size limit

@test()
async def frame_over_64k_closes_with_1009():
    c = await greeted(Ctx.server)
    try:
        await c.send("x" * (MAX_FRAME + 1))  # not JSON: the size is checked before parsing
    except websockets.exceptions.ConnectionClosed:
        pass
    code = await c.close_code(5)
    expect(code == 1009, f"65537-byte frame: close code {code}, want 1009; got {short(c.seen)}")
    expect(not any(isinstance(f, str) and "bad_json" in f for f in c.seen),
           "the oversize frame was parsed (bad_json) before the close")


@test()
async def fragmented_message_over_64k_closes_with_1009():
    c = await greeted(Ctx.server)
    part = "x" * 30000
    try:
        await c.send([part, part, part])  # three fragments of one message, 90000 bytes
    except websockets.exceptions.ConnectionClosed:
        pass
    code = await c.close_code(5)
    expect(code == 1009, f"90000 bytes in three fragments: close code {code}, want 1009")


@test()
async def fragmented_message_is_reassembled():
    c = await greeted(Ctx.server)
    await c.send(['{"type": "message", ', '"id": "f1", "text": "I want ', 'a camera"}'])
    reply = await c.answer("f1")
    expect(reply.get("type") == "reply" and EN_BUDGET_QUESTION in texts(reply),
           f"a message in three fragments: {short(reply)}")
    await c.close()


@test()
async def frame_of_exactly_64k_is_taken():
    c = await greeted(Ctx.server)
    head = '{"type":"ping","id":"big","pad":"'
    frame = head + "x" * (MAX_FRAME - len(head) - 2) + '"}'
    expect(len(frame.encode()) == MAX_FRAME, "test bug: frame size")
    await c.send(frame)
    ans = await c.answer("big")
    expect(ans.get("type") in ("pong", "error"), f"64 KiB frame answered with {short(ans)}")
    if ans.get("type") == "error":
        note(f"ping with an extra 64 KiB field: error {ans.get('code')}")
    await c.still_open()
    await c.close()


# 6. Origin

async def refusal(origin, what, server=None):
    """Connects with this Origin (None: no header) and says hello. Fails if capabilities come
    or the connection stays open; returns (HTTP status or None, error codes, close code)."""
    try:
        c = await connect(server or Ctx.server, origin=origin)
    except websockets.exceptions.InvalidStatusCode as e:
        return e.status_code, [], None
    except websockets.exceptions.InvalidHandshake as e:
        raise Failure(f"{what}: the handshake was dropped without an HTTP answer ({e})")
    try:
        await c.send({"type": "hello", "v": 1, "channel": "web", "client_id": new_client_id()})
    except websockets.exceptions.ConnectionClosed:
        pass
    code = await c.close_code(5)
    frames = [json.loads(f) for f in c.seen if isinstance(f, str)]
    expect(not any(f.get("type") == "capabilities" for f in frames),
           f"{what}: the connection worked (capabilities sent): {short(frames)}")
    expect(code is not None, f"{what}: not closed within 5 s: {short(frames)}")
    return None, [f.get("code") for f in frames if f.get("type") == "error"], code


def foreign_origins():
    p = Ctx.server.port
    return ["http://evil.example", f"http://127.0.0.1:{p}.evil.example", f"http://127.0.0.1:{p + 1}",
            f"https://127.0.0.1:{p}", f"http://127.0.0.1:{p}/", "null"]


@test()
async def foreign_origins_cannot_talk():
    for origin in foreign_origins():
        await refusal(origin, f"Origin {origin}")


@test()
async def foreign_origin_gets_origin_refused_and_1008():
    wrong = []
    for origin in foreign_origins():
        status, codes, close = await refusal(origin, f"Origin {origin}")
        if status is not None or codes != ["origin_refused"] or close != 1008:
            wrong.append(f"{origin}: HTTP {status}, errors {codes}, close {close}")
    expect(not wrong, "want error origin_refused, then close 1008: " + "; ".join(wrong))


@test()
async def no_origin_needs_a_token():
    status, codes, close = await refusal(None, "no Origin, no token")
    expect(status is None and codes in (["bad_token"], ["bad_hello"]) and close == 1008,
           f"no Origin and no token: HTTP {status}, errors {codes}, close {close}; "
           f"want error bad_token (or bad_hello: the token is required), then 1008")
    c = await connect(Ctx.server, origin=None)
    token = make_token("no-origin-" + secrets.token_hex(4), Ctx.secret)
    caps, state = await c.hello(token=token)
    expect(caps.get("signed_in") is True, f"signed_in with a valid token: {short(caps)}")
    expect(state.get("signed_in") is True, f"state.signed_in with a valid token: {short(state)}")
    await c.say("hello", "m1")
    await c.close()


# 7. rate limit

@test(timeout=45)
async def rate_limit_then_recovers():
    c = await greeted(Ctx.server)
    for i in range(25):  # pings do not count
        await c.send({"type": "ping", "id": f"p{i}"})
    for i in range(25):
        pong = await c.answer(f"p{i}")
        expect(pong.get("type") == "pong", f"ping {i} of 25: {short(pong)}")
    ids = [f"r{i}" for i in range(30)]
    for n, i in enumerate(ids):  # messages and actions count alike
        await c.send({"type": "message", "id": i, "text": "hello"} if n % 2 else
                     {"type": "action", "id": i, "action": "quick_reply", "text": "hello"})
    answers = {}
    deadline = time.monotonic() + 20
    while len(answers) < 30 and time.monotonic() < deadline:
        f = await c.wait_for(lambda o: o.get("type") in ("reply", "error"), "answers to 30 turns",
                             timeout=max(0.1, deadline - time.monotonic()))
        answers[f.get("in_reply_to", f"?{len(answers)}")] = f
    replies = sum(1 for f in answers.values() if f["type"] == "reply")
    limited = sum(1 for f in answers.values() if f.get("code") == "rate_limited")
    other = [f for f in answers.values() if f["type"] == "error" and f.get("code") != "rate_limited"]
    expect(not other, f"unexpected errors: {short(other)}")
    expect(replies == 20 and limited == 10,
           f"30 messages and actions at once: {replies} replies and {limited} rate_limited, "
           f"want 20 and 10")
    expect(all(k in ids for k in answers), f"answers without matching in_reply_to: {list(answers)}")
    note(f"30 messages and actions at once: {replies} replies, {limited} rate_limited")
    await c.still_open()
    await asyncio.sleep(11)
    await c.say("hello again", "after")
    await c.close()


# 8. tokens

@test()
async def bad_tokens_are_refused_with_1008():
    other_secret = secrets.token_hex(20).encode()
    sub = "bad-token-" + secrets.token_hex(4)
    cases = {"garbage": "not.a.token",
             "wrong secret": make_token(sub, other_secret),
             "expired": make_token(sub, Ctx.secret, expires_in=-3600),
             "alg none": make_token(sub, Ctx.secret, alg="none"),
             "no exp": make_token(sub, Ctx.secret, claims={"exp": None}),
             "no sub": make_token(sub, Ctx.secret, claims={"sub": None})}
    for what, token in cases.items():
        c = await connect(Ctx.server)
        await c.send({"type": "hello", "v": 1, "channel": "web", "client_id": new_client_id(),
                      "token": token})
        await c.error("bad_token", f"token {what}")
        code = await c.close_code(3)
        expect(code == 1008, f"token {what}: close code {code} after bad_token, want 1008")
        expect(not any(isinstance(f, dict) and f.get("type") == "capabilities" for f in c.seen),
               f"token {what}: capabilities were sent")


# 9. many connections at once

async def one_customer(i, all_greeted):
    c = await greeted(Ctx.server)
    try:
        await all_greeted.wait()  # every connection is open before anyone talks
        budget = 900 + i
        r1 = await c.say(OFFER_REQUEST.format(budget), f"c{i}-m1", timeout=30)
        expect(f"€{budget}" in texts(r1).replace(",", ""),
               f"connection {i}: reply does not mention €{budget}: {short(r1)}")
        want = "starter_kit" if budget < 1000 else "enthusiast_kit"  # the bot's budget branches
        expect(offer_in(r1).get("id") == want, f"connection {i}: offer {offer_in(r1).get('id')}, want {want}")
        r2 = await c.say("no", f"c{i}-m2", timeout=30)
        r3 = await c.say("what can you do?", f"c{i}-m3", timeout=30)
        for r, k in ((r1, 1), (r2, 2), (r3, 3)):
            expect(r["in_reply_to"] == f"c{i}-m{k}", f"connection {i}: in_reply_to {r['in_reply_to']}")
        stray = [f for f in c.seen if f.get("type") not in ("capabilities", "state", "reply")]
        stray += [f for f in c.seen if f.get("type") == "reply" and
                  not str(f.get("in_reply_to", "")).startswith(f"c{i}-")]
        expect(not stray, f"connection {i} got frames that are not its own: {short(stray)}")
    finally:
        await c.close()


@test(timeout=120)
async def two_hundred_concurrent_connections():
    n = 200
    all_greeted = asyncio.Event()
    tasks = [asyncio.create_task(one_customer(i, all_greeted)) for i in range(n)]
    started = time.monotonic()
    while all(not t.done() for t in tasks) and \
            metric_sum(metrics_samples(Ctx.server), "parley_open_connections") < n and \
            time.monotonic() - started < 30:
        await asyncio.sleep(0.1)
    open_now = metric_sum(metrics_samples(Ctx.server), "parley_open_connections")
    all_greeted.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    bad = [(i, r) for i, r in enumerate(results) if isinstance(r, BaseException)]
    expect(not bad, f"{len(bad)} of {n} connections failed; first: {bad[0][0]}: {bad[0][1]!r}"
           if bad else "")
    expect(open_now >= n, f"parley_open_connections was {open_now} with {n} connections open")
    note(f"{n} connections x (hello + 3 messages) took {time.monotonic() - started:.1f} s")


# 10. HTTP

@test()
async def healthz_and_curl():
    status, body = http_json(Ctx.server, "GET", "/healthz")
    expect(status == 200 and body.get("status") == "ok", f"/healthz: {status} {short(body)}")
    expect(sorted(body.get("bots", [])) == ["camera-shop-de", "camera-shop-en"],
           f"/healthz bots: {body.get('bots')!r}")
    out = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", Ctx.server.base + "/healthz"],
                         capture_output=True, text=True, timeout=10)
    expect(out.returncode == 0, f"curl failed: {out.stderr}")
    text, _, code = out.stdout.rpartition("\n")
    expect(code == "200" and json.loads(text).get("status") == "ok", f"curl /healthz: {out.stdout!r}")


def curl(*args, data=None):
    """Runs curl against the server; returns (status code, body text)."""
    cmd = ["curl", "-sS", "-w", "\n%{http_code}", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=15, input=data)
    expect(out.returncode == 0, f"curl {' '.join(args)} failed: {out.stderr}")
    text, _, code = out.stdout.rpartition("\n")
    return int(code), text


@test()
async def curl_app_capabilities_and_metrics():
    base = Ctx.server.base
    code, text = curl(base + "/v1/capabilities?channel=voice")
    expect(code == 200 and json.loads(text)["bot"]["automated"] is True, f"capabilities: {code} {text[:200]}")
    code, text = curl(base + "/metrics")
    expect(code == 200 and "parley_turns_total{channel=" in text and "parley_open_connections" in text,
           f"metrics: {code} {text[:200]}")
    token = make_token("curl-" + secrets.token_hex(4), Ctx.secret)
    code, text = curl("-H", "Authorization: Bearer " + token, "-H", "Content-Type: application/json",
                      "--data-binary", "@-", base + "/v1/app/messages",
                      data=json.dumps({"text": "I want a camera for travel, budget 900 euros"}))
    reply = json.loads(text)
    expect(code == 200 and reply.get("type") == "reply" and
           any(m.get("type") == "offer" for m in reply.get("messages", [])), f"app turn: {code} {text[:300]}")
    code, text = curl("-H", "Content-Type: application/json", "--data-binary", "@-",
                      base + "/v1/app/messages", data='{"text": "hi"}')
    expect(code == 401 and json.loads(text).get("code") == "bad_token", f"no token: {code} {text}")


@test()
async def metrics_count_turns_and_connections():
    token = make_token("metrics-" + secrets.token_hex(4), Ctx.secret)
    before = metrics_samples(Ctx.server)
    names = {n for n, _, _ in before}
    for want in ("parley_turns_total", "parley_open_connections"):
        expect(want in names, f"/metrics has no {want} line; names: {sorted(names)}")
    clients = [await greeted(Ctx.server) for _ in range(2)]
    await clients[0].send({"type": "shout", "id": "x"})
    await clients[0].error("unknown_type", "for the error metrics")
    status, _ = http_json(Ctx.server, "POST", "/v1/app/messages", {"text": "hello"}, token=token)
    expect(status == 200, f"app turn for the metrics: {status}")
    after = metrics_samples(Ctx.server)
    open_now = metric_sum(after, "parley_open_connections")
    expect(open_now >= 2, f"parley_open_connections {open_now} with 2 connections open")
    grew = metric_sum(after, "parley_turns_total", channel="app") - \
        metric_sum(before, "parley_turns_total", channel="app")
    expect(grew >= 1, f'parley_turns_total{{channel="app"}} grew by {grew} after an app turn')
    expect(any(n.endswith("_bucket") and "le" in l for n, l, _ in after),
           "/metrics has no histogram (no _bucket sample with le) for the turn latency")
    by_kind = [(n, l, v) for n, l, v in after if "unknown_type" in l.values()]
    expect(by_kind and by_kind[0][2] >= 1, f"no error counter by kind with unknown_type >= 1: {by_kind}")
    for c in clients:
        await c.close()


@test()
async def capabilities_endpoint():
    status, body = http_json(Ctx.server, "GET", "/v1/capabilities?channel=voice")
    expect(status == 200, f"channel=voice: {status} {short(body)}")
    expect(body.get("bot", {}).get("automated") is True, f"automated: {short(body)}")
    expect(body.get("channel") == "voice", f"channel: {short(body)}")
    cli = subprocess.run([Ctx.parley, "capabilities", BOTS[0], "--channel", "voice", "--json"],
                         cwd=Ctx.source, capture_output=True, text=True, timeout=10)
    if cli.returncode == 0:
        expect(body == json.loads(cli.stdout),
               f"the manifest differs from `parley capabilities --json`: {short(body)}")
    status, body = http_json(Ctx.server, "GET", "/v1/capabilities?channel=web&bot=camera-shop-de")
    expect(status == 200 and body.get("language") == "de" and body.get("channel") == "web",
           f"channel=web&bot=camera-shop-de: {status} {short(body)}")
    status, body = http_json(Ctx.server, "GET", "/v1/capabilities?channel=fax")
    expect_http_error(status, body, 400, "channel=fax")
    status, body = http_json(Ctx.server, "GET", "/v1/capabilities?channel=web&bot=no-such-bot")
    expect_http_error(status, body, 404, "bot=no-such-bot")


@test()
async def app_endpoint_errors():
    token = make_token("app-err-" + secrets.token_hex(4), Ctx.secret)
    path = "/v1/app/messages"
    status, body = http_json(Ctx.server, "POST", path, {"text": "hello"})
    expect_http_error(status, body, 401, "no token", code="bad_token")
    expired = make_token("app-err", Ctx.secret, expires_in=-3600)
    status, body = http_json(Ctx.server, "POST", path, {"text": "hello"}, token=expired)
    expect_http_error(status, body, 401, "expired token", code="bad_token")
    status, body = http_json(Ctx.server, "POST", path, raw=b'{"text": "hello",,}', token=token)
    expect_http_error(status, body, 400, "bad JSON", code="bad_json")
    expect(re.search(r"\d", body["message"]), f"bad JSON message has no position: {body['message']!r}")
    status, body = http_json(Ctx.server, "POST", path, {"action": "dance"}, token=token)
    expect_http_error(status, body, 400, "unknown action", code="bad_request")
    status, body = http_json(Ctx.server, "POST", path, {"text": "ä" * 2048 + "a"}, token=token)
    expect_http_error(status, body, 400, "text of 4097 bytes", code="too_long")
    status, body = http_json(Ctx.server, "POST", path, raw=b'{"text": "caf\xc3"}', token=token)
    expect_http_error(status, body, 400, "invalid UTF-8", code="not_utf8")
    status, body = http_json(Ctx.server, "POST", path, token=token,
                             raw=b'{"text": "hi", "x": ' + b"[" * 40 + b"]" * 40 + b"}")
    expect_http_error(status, body, 400, "JSON nested 41 deep", code="too_deep")
    big = b'{"text":"' + b"x" * (MAX_FRAME + 10) + b'"}'
    status, body = post_raw(Ctx.server, path, big, token)
    expect_http_error(status, body, 413, "body over 64 KiB", code="too_large")
    status, body = post_raw(Ctx.server, path, big, "not-a-token")  # either check may come first
    expect_http_error(status, body, status if status in (401, 413) else 413, "big body, bad token")
    exact = b'{"text": "hello"}'
    status, body = post_raw(Ctx.server, path, exact + b" " * (MAX_FRAME - len(exact)), token)
    expect(status == 200 and isinstance(body, dict) and body.get("type") == "reply",
           f"body of exactly 64 KiB (JSON and spaces): {status} {short(body)}, want 200 reply")


@test()
async def app_endpoint_rate_limit_is_429():
    token = make_token("app-rl-" + secrets.token_hex(4), Ctx.secret)
    statuses = []
    for i in range(25):
        status, body = http_json(Ctx.server, "POST", "/v1/app/messages", {"text": "hello"}, token=token)
        statuses.append(status)
        if status == 429:
            expect_http_error(status, body, 429, "rate-limited app turn", code="rate_limited")
    expect(statuses == [200] * 20 + [429] * 5, f"25 app turns at once: {statuses}, want 20 x 200, 5 x 429")


@test()
async def app_endpoint_refuses_chunked_bodies_with_411():
    token = make_token("app-chunked-" + secrets.token_hex(4), Ctx.secret)
    for parts in ([b'{"text":', b' "hello"}'], [b'{"text":"'] + [b"x" * 8000] * 10 + [b'"}']):
        size = sum(map(len, parts))
        status, body = post_chunked(Ctx.server, "/v1/app/messages", parts, token)
        expect(status == 411, f"chunked body of {size} bytes: {status} {short(body)}; want 411")
        try:
            parsed = json.loads(body)
        except ValueError:
            raise Failure(f"chunked body: 411 without a JSON error: {short(body)}")
        expect_http_error(status, parsed, 411, "chunked body")


def post_chunked(server, path, parts, token):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("POST", path, iter(parts), {"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json",
                                                  "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as e:
        return f"no answer ({e!r})", ""
    finally:
        conn.close()


def post_raw(server, path, body, token):
    """POST written in one piece on a plain socket; (status, parsed body). Fails when more
    than one response comes back or the body is not what Content-Length says."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    data = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while chunk := s.recv(65536):
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    headers, _, rest = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", headers)
    expect(m, f"POST {path} ({len(body)} bytes): not an HTTP response: {short(data.decode(errors='replace'))}")
    length = re.search(rb"(?im)^content-length: *(\d+)", headers)
    expect(length, f"POST {path}: response without Content-Length: {short(headers.decode())}")
    n = int(length.group(1))
    expect(len(rest) == n, f"POST {path} ({len(body)} bytes): {len(rest)} bytes after the headers, "
           f"Content-Length says {n}: {short(data.decode(errors='replace'), 600)}")
    try:
        return int(m.group(1)), json.loads(rest)
    except ValueError:
        return int(m.group(1)), rest.decode(errors="replace")


@test()
async def app_turns_and_push_to_web():
    token = make_token("app-" + secrets.token_hex(4), Ctx.secret)
    web = await connect(Ctx.server)
    _, state = await web.hello(token=token)
    expect(state.get("signed_in") is True, f"web state with token: {short(state)}")
    path = "/v1/app/messages"
    status, body = http_json(Ctx.server, "POST", path, {"text": "Ich suche eine Kamera", "locale": "de"},
                             token=token)
    expect(status == 200 and body.get("type") == "reply", f"app text: {status} {short(body)}")
    expect(DE_BUDGET_QUESTION in texts(body), f"app German budget question: {short(body)}")
    status, body = http_json(Ctx.server, "POST", path, {"text": OFFER_REQUEST.format(900)}, token=token)
    expect(status == 200, f"app offer request: {status} {short(body)}")
    offer = offer_in(body)
    status, body = http_json(Ctx.server, "POST", path, {"action": "accept_offer", "offer": offer["id"]},
                             token=token)
    expect(status == 200 and body.get("type") == "reply", f"app accept_offer: {status} {short(body)}")
    await web.wait_for(lambda o: o.get("type") == "state" and offer_status(o, offer["id"]) == "accepted",
                       "pushed state on the web after the app accepted", timeout=2)
    await web.close()


@test()
async def static_routes_and_traversal():
    status, headers, data = http_request(Ctx.server, "GET", "/")
    expect(status == 200 and headers.get("Content-Type", "").startswith("text/html"),
           f"GET /: {status} {headers.get('Content-Type')}")
    www = os.path.join(Ctx.source, "channels/web/www")
    for name in sorted(os.listdir(www)) if os.path.isdir(www) else []:
        status, _, data = http_request(Ctx.server, "GET", "/" + name)
        with open(os.path.join(www, name), "rb") as f:
            expect(status == 200 and data == f.read(), f"GET /{name}: {status}, not the file's bytes")
    status, _, _ = http_request(Ctx.server, "GET", "/demo/token?sub=alice")
    expect(status == 404, f"/demo/token without --demo: {status}, want 404")
    status, _, _ = http_request(Ctx.server, "GET", "/no-such-file.js")
    expect(status == 404, f"missing file: {status}, want 404")
    for path in ("/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc/passwd",
                 "/../CMakeLists.txt", "/%2e%2e/README.md"):
        out = subprocess.run(["curl", "-sS", "--path-as-is", "-w", "\n%{http_code}", Ctx.server.base + path],
                             capture_output=True, text=True, timeout=10)
        expect("root:" not in out.stdout and "cmake_minimum_required" not in out.stdout
               and "# parley" not in out.stdout, f"GET {path} served a file outside www: {short(out.stdout)}")


@test()
async def demo_tokens_with_demo_flag():
    server = Server(Ctx.parley, Ctx.source, BOTS[:1], Ctx.workdir, "demo", Ctx.secret_file)
    server.args.append("--demo")
    server.start()
    try:
        status, body = http_json(server, "GET", "/demo/token?sub=alice_01")
        expect(status == 200 and isinstance(body.get("token"), str), f"/demo/token: {status} {short(body)}")
        head, payload, sig = body["token"].split(".")
        want = hmac.new(Ctx.secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        expect(sig == b64url(want), "the demo token is not signed HS256 with the server's secret")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        expect("alice_01" in str(claims.get("sub")), f"demo token sub: {claims}")
        expect(abs(claims.get("exp", 0) - time.time() - 3600) < 120, f"demo token exp is not now + 1 h: {claims}")
        for bad in ("", "a" * 65, "al%20ice", "al%2Fice", "%C3%A4"):
            status, body = http_json(server, "GET", f"/demo/token?sub={bad}")
            expect(status == 400, f"/demo/token?sub={bad}: {status} {short(body)}, want 400")
        status, _ = http_json(server, "GET", "/demo/token?sub=" + "a" * 64)
        expect(status == 200, f"/demo/token with a 64-character name: {status}")
        c = await connect(server)
        caps, _ = await c.hello(token=body_token(server, "bob"))
        expect(caps.get("signed_in") is True, f"hello with a demo token: {short(caps)}")
        await c.close()
    finally:
        rc = server.stop()
    expect(rc == 0, f"demo server: exit status {rc} after SIGTERM, want 0 within 5 s")


def body_token(server, sub):
    return http_json(server, "GET", f"/demo/token?sub={sub}")[1]["token"]


# Settings from a --config file

def copy_bot(prefix):
    """A copy of the English bot (and its include) in a new directory; its path."""
    botdir = tempfile.mkdtemp(dir=Ctx.workdir, prefix=prefix)
    shutil.copy(os.path.join(Ctx.source, BOTS[0]), botdir)
    shutil.copytree(os.path.join(Ctx.source, "dialogs/camera-shop"), os.path.join(botdir, "camera-shop"))
    return os.path.join(botdir, os.path.basename(BOTS[0]))


@test(timeout=60)
async def config_file_sets_bots_store_origins_secret_and_limits():
    bot = copy_bot("config-")
    confdir = os.path.dirname(bot)
    with open(os.path.join(confdir, "parley.yaml"), "w") as f:
        f.write("listen: 127.0.0.1:0\n"
                "store: sqlite:state.db\n"
                f"bots: [{os.path.basename(bot)}]\n"
                "origins: [http://shop.example]\n"
                "limits: {rate_limit: 3, idle_timeout: 10}\n")  # 10 s: the smallest it takes
    secret = secrets.token_hex(20)
    server = Server(Ctx.parley, Ctx.workdir, [], Ctx.workdir, "config", None,
                    args=["--config", os.path.join(confdir, "parley.yaml")],
                    env={"PARLEY_JWT_SECRET": secret})
    server.start()
    try:
        status, body = http_json(server, "GET", "/healthz")
        expect(body.get("bots") == ["camera-shop-en"], f"bots from the config: {short(body)}")
        expect(os.path.exists(os.path.join(confdir, "state.db")),
               f"the store is not relative to the config file: {os.listdir(confdir)}")
        await refusal("http://evil.example", "Origin http://evil.example, config server", server)
        c = await connect(server, origin="http://shop.example")
        caps, _ = await c.hello(token=make_token("conf", secret.encode()))
        expect(caps.get("signed_in") is True, f"token signed with PARLEY_JWT_SECRET: {short(caps)}")
        for i in range(4):
            await c.send({"type": "message", "id": f"r{i}", "text": "hello"})
        answers = [await c.answer(f"r{i}") for i in range(4)]
        kinds = [a.get("code", a["type"]) for a in answers]
        expect(kinds == ["reply"] * 3 + ["rate_limited"], f"rate_limit 3: {kinds}")
        started = time.monotonic()
        code = await c.close_code(15)  # idle from now on
        took = time.monotonic() - started
        expect(code == 1001 and 9 <= took <= 13,
               f"idle_timeout 10: close code {code} after {took:.1f} s idle, want 1001 after about 10 s")
    finally:
        rc = server.stop()
    expect(rc == 0, f"config server: exit status {rc} after SIGTERM, want 0 within 5 s")


# 11. hot reload (its own server, serving a copy of the English bot)

def changed_bot(text, marker):
    old = 'default: "What is your budget, roughly? For example \\"800 euros\\"."'
    expect(old in text, "test bug: budget prompt not found in the bot")
    return text.replace(old, f'default: "{marker}: what is your budget?"')


async def budget_question(server, msg_id="q"):
    c = await greeted(server)
    try:
        return texts(await c.say("I want a camera", msg_id))
    finally:
        await c.close()


async def wait_for_text(server, marker, seconds):
    deadline = time.monotonic() + seconds
    while True:
        got = await budget_question(server)
        if marker in got or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.25)


@test(timeout=90)
async def hot_reload_keeps_old_bot_on_error_and_takes_new_one():
    bot = copy_bot("reload-")
    with open(bot) as f:
        original = f.read()
    server = Server(Ctx.parley, Ctx.source, [bot], Ctx.workdir, "reload", Ctx.secret_file)
    server.start()
    live = None
    try:
        live = await greeted(server)
        expect(EN_BUDGET_QUESTION in texts(await live.say("I want a camera", "m1")), "before reload")

        with open(bot, "w") as f:  # broken YAML, written in place
            f.write("bot: {id: [unclosed\n")
        deadline = time.monotonic() + 5
        while failed_reloads(metrics_samples(server)) < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        failed = failed_reloads(metrics_samples(server))
        expect(failed >= 1, f"no failed reload in /metrics 5 s after a broken write: "
               f"{reload_samples(metrics_samples(server))}")
        await live.say("900 euros", "m2")
        expect(EN_BUDGET_QUESTION in await budget_question(server), "old bot not kept after a broken file")
        expect(server.alive(), "server died on a broken bot file")

        with open(bot, "w") as f:  # a valid, changed bot, written in place
            f.write(changed_bot(original, "Reloaded-1"))
        got = await wait_for_text(server, "Reloaded-1", 5)
        expect("Reloaded-1" in got, f"changed bot (in-place write) not used within 5 s: {got!r}")
        await live.say("for travel", "m3")  # the live connection keeps working

        tmp = bot + ".tmp"  # an editor's save: write a new file and rename it over the old one
        with open(tmp, "w") as f:
            f.write(changed_bot(original, "Reloaded-2"))
        os.replace(tmp, bot)
        got = await wait_for_text(server, "Reloaded-2", 5)
        expect("Reloaded-2" in got, f"changed bot (saved by rename) not used within 5 s: {got!r}")
    finally:
        if live is not None:
            await live.close()
        rc = server.stop()
    expect(rc == 0, f"reload server: exit status {rc} after SIGTERM, want 0 within 5 s")


@test(timeout=60)
async def sighup_reloads():
    bot = copy_bot("hup-")
    server = Server(Ctx.parley, Ctx.source, [bot], Ctx.workdir, "hup", Ctx.secret_file)
    server.start()
    try:
        # Unchanged files: SIGHUP still reloads (the reload metrics move) and must not kill.
        before = reload_samples(metrics_samples(server))
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and server.alive() and \
                reload_samples(metrics_samples(server)) == before:
            await asyncio.sleep(0.2)
        expect(server.alive(), f"SIGHUP killed the server (status {server.proc.returncode})")
        after = reload_samples(metrics_samples(server))
        expect(after != before, f"reload metrics unchanged 5 s after SIGHUP: {after}")
        expect(failed_reloads(metrics_samples(server)) == 0, f"SIGHUP reload failed: {after}")
        expect(EN_BUDGET_QUESTION in await budget_question(server), "turns after SIGHUP")
        # A changed file followed by SIGHUP is in use right away.
        with open(bot) as f:
            text = f.read()
        with open(bot + ".new", "w") as f:
            f.write(changed_bot(text, "Reloaded-HUP"))
        os.rename(bot + ".new", bot)
        server.proc.send_signal(signal.SIGHUP)
        got = await wait_for_text(server, "Reloaded-HUP", 5)
        expect("Reloaded-HUP" in got, f"changed bot not used within 5 s of SIGHUP: {got!r}")
    finally:
        rc = server.stop()
    expect(rc == 0, f"SIGHUP server: exit status {rc} after SIGTERM, want 0 within 5 s")


# 12. shutdown (runs last: it stops the main server)

@test(timeout=30)
async def sigterm_closes_clients_with_1001_and_exits_0():
    c = await greeted(Ctx.server)
    started = time.monotonic()
    Ctx.server.proc.send_signal(signal.SIGTERM)
    code = await c.close_code(5)
    try:
        rc = await asyncio.get_running_loop().run_in_executor(None, Ctx.server.proc.wait, 5)
    except subprocess.TimeoutExpired:
        rc = "still running after 5 s"
    took = time.monotonic() - started
    expect(code == 1001, f"the client saw close code {code} on shutdown, want 1001")
    expect(rc == 0, f"exit status {rc} after SIGTERM, want 0 (took {took:.1f} s)")


# ---------------------------------------------------------------- runner

async def run(selected):
    failed = []
    for fn in selected:
        name = fn.__name__
        try:
            await asyncio.wait_for(fn(), fn.timeout)
            print(f"PASS {name}", flush=True)
        except Failure as e:
            failed.append(name)
            print(f"FAIL {name}: {e}", flush=True)
        except asyncio.TimeoutError:
            failed.append(name)
            print(f"FAIL {name}: did not finish within {fn.timeout} s", flush=True)
        except Exception as e:  # a crash of the test itself or an unexpected server answer
            failed.append(name)
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(f"FAIL {name}: {type(e).__name__}: {e} (line {where.lineno})", flush=True)
        if Ctx.server.proc.poll() is not None and fn is not TESTS[-1]:
            print(f"FAIL server: exited with {Ctx.server.proc.returncode} during {name}\n"
                  f"{Ctx.server.log_tail()}", flush=True)
            failed.append("server")
            break
    return failed


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    Ctx.parley = os.path.abspath(sys.argv[1])
    Ctx.source = os.path.abspath(sys.argv[2])
    patterns = sys.argv[3:]
    Ctx.workdir = tempfile.mkdtemp(prefix="parley-server-test-")
    Ctx.secret = secrets.token_hex(20).encode()  # 40 bytes
    Ctx.secret_file = os.path.join(Ctx.workdir, "jwt-secret")
    with open(Ctx.secret_file, "wb") as f:
        f.write(Ctx.secret)
    Ctx.server = Server(Ctx.parley, Ctx.source, BOTS, Ctx.workdir, "main", Ctx.secret_file)
    failed = []
    try:
        Ctx.server.start()
        print(f"parley serve on port {Ctx.server.port} (log {Ctx.server.log_path})", flush=True)
        selected = [t for t in TESTS if not patterns or any(p in t.__name__ for p in patterns)]
        if TESTS[-1] not in selected:
            selected.append(TESTS[-1])  # always stop the server the way the test expects
        failed = asyncio.run(run(selected))
    except Failure as e:
        print(f"FAIL server_starts: {e}")
        failed = ["server_starts"]
    finally:
        if Ctx.server.alive() and Ctx.server.stop() is None:
            print("FAIL the server did not stop within 5 s of SIGTERM; killed")
        for server in Server.started:
            server.stop()
    if failed:
        print(f"server log tail:\n{Ctx.server.log_tail(40)}")
        print(f"{len(failed)} failed: {' '.join(failed)}")
    else:
        print("all passed")
        shutil.rmtree(Ctx.workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
