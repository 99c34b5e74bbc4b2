#!/usr/bin/python3
"""Benchmark of parley serve with a real WebSocket client: messages per second and latency
of one client talking in a loop (each message waits for its reply, so this is the turn
latency a customer sees, commit included), and the server's memory per idle connection
(VmRSS from /proc with N open connections that said hello, minus before).

With --clients N, N such clients talk at once (throughput under load). --store redis starts a
redis-server of its own (appendonly yes, appendfsync always: every acknowledged turn on disk,
as SQLite's store keeps it).

usage: bench_serve.py PARLEY SOURCE_DIR [--seconds S] [--idle N] [--clients N]
                      [--store memory|sqlite|redis]
Prints one JSON object. Run it on a quiet machine and compare runs made together."""

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request

import websockets


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_redis(tmp):
    port = free_port()
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
                          "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit("redis-server did not start")


def start(parley, src, port, store, tmp, redis_port=None):
    spec = ("memory" if store == "memory" else f"redis://127.0.0.1:{redis_port}"
            if store == "redis" else f"sqlite:{tmp}/bench.db")
    p = subprocess.Popen([parley, "serve", "--listen", f"127.0.0.1:{port}", "--store", spec,
                          "--rate-limit", "100", "--log-level", "error",
                          "dialogs/camera-shop.en.yaml"], cwd=src,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit("parley serve did not start")


MESSAGES = ["I am looking for a camera", "about 800 euros", "travel", "what can you do",
            "compare DSLR and mirrorless", "both", "where is my order", "LU-123456",
            "thanks", "are you a bot"]


async def hello(port, i):
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/v1/ws", subprotocols=["parley.v1"],
                                  origin=f"http://127.0.0.1:{port}", max_size=None)
    await ws.send(json.dumps({"type": "hello", "v": 1, "channel": "web",
                              "client_id": f"bench-client-{i:08d}-xx", "locale": "en"}))
    await ws.recv()  # capabilities
    await ws.recv()  # state
    return ws


async def loop(port, seconds, client=0):
    base = client * 1000000
    ws = await hello(port, base)
    lat, n, end = [], 0, time.monotonic() + seconds
    # the rate limit allows 100 per 10 s per connection: a new connection every 90 messages
    conn = base + 1
    while time.monotonic() < end:
        if n and n % 90 == 0:
            await ws.close()
            ws = await hello(port, conn)
            conn += 1
        t0 = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "id": str(n), "text": MESSAGES[n % len(MESSAGES)]}))
        while True:
            m = json.loads(await ws.recv())
            if m.get("type") in ("reply", "error"):
                break
        lat.append(time.perf_counter() - t0)
        if m["type"] == "error":
            raise SystemExit(f"error from the server: {m}")
        n += 1
    await ws.close()
    return lat


async def idle(port, pid, count):
    before = rss_kib(pid)
    conns = [await hello(port, 100000 + i) for i in range(count)]
    await asyncio.sleep(0.5)
    after = rss_kib(pid)
    for c in conns:
        await c.close()
    return before, after


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("parley")
    ap.add_argument("src")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--store", choices=["memory", "sqlite", "redis"], default="sqlite")
    ap.add_argument("--clients", type=int, default=1)
    a = ap.parse_args()

    async def clients():
        t0 = time.monotonic()
        runs = await asyncio.gather(*[loop(port, a.seconds, i) for i in range(a.clients)])
        return [x for r in runs for x in r], time.monotonic() - t0

    with tempfile.TemporaryDirectory() as tmp:
        redis, redis_port = start_redis(tmp) if a.store == "redis" else (None, None)
        port = free_port()
        p = start(os.path.realpath(a.parley), a.src, port, a.store, tmp, redis_port)
        try:
            lat, wall = asyncio.run(clients())
            before, after = asyncio.run(idle(port, p.pid, a.idle))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=10)
            if redis is not None:
                redis.kill()
                redis.wait()
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1e6
    print(json.dumps({"store": a.store, "clients": a.clients, "messages": len(lat),
                      "messages_per_second": round(len(lat) / wall, 1),
                      "p50_us": round(q(0.50), 1), "p99_us": round(q(0.99), 1),
                      "mean_us": round(statistics.mean(lat) * 1e6, 1),
                      "idle_connections": a.idle, "rss_before_kib": before, "rss_after_kib": after,
                      "bytes_per_idle_connection": round((after - before) * 1024 / a.idle)}))


if __name__ == "__main__":
    main()
