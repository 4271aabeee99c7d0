#!/usr/bin/env python3
"""A small deterministic embedding provider with an OpenAI-compatible
`POST /v1/embeddings` endpoint, for tests, docs and trying omnigraph's
`@embed` without a model.

A text's vector is a hashed bag of words: each lower-cased word adds +1 or
-1 (from its SHA-256) to one of `--dim` coordinates, then the vector is
scaled to length 1. Texts that share words point the same way, so
`nearest` over these vectors finds texts with words in common. The same
text always gets the same vector.

    python3 scripts/embed_server.py --bind 127.0.0.1:8089 --dim 8
    export OMNIGRAPH_EMBED_URL=http://127.0.0.1:8089/v1
    export OMNIGRAPH_EMBED_MODEL=hash-8

It prints `listening on <port>` once it serves (`--port 0` picks a free
port). Knobs for tests: `--fail-first N` answers the first N requests with
500; `--delay-ms` waits before each answer; `--api-key K` requires
`Authorization: Bearer K`; `--models a,b` refuses other model names (404).
`GET /stats` answers the requests and texts served so far;
`POST /control {"fail_next": N, "delay_ms": D}` changes the knobs.
"""

import argparse
import hashlib
import json
import math
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORD = re.compile(r"[a-z0-9]+")


def embed(text, dim):
    v = [0.0] * dim
    for w in WORD.findall(text.lower()):
        h = hashlib.sha256(w.encode()).digest()
        i = int.from_bytes(h[:4], "little") % dim
        v[i] += 1.0 if h[4] & 1 else -1.0
    n = math.sqrt(sum(x * x for x in v))
    if n == 0:
        # No words: a fixed direction, never a zero vector.
        v[0], n = 1.0, 1.0
    return [x / n for x in v]


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.dim = args.dim
        self.fail_next = args.fail_first
        self.delay_ms = args.delay_ms
        self.api_key = args.api_key
        self.models = set(m for m in (args.models or "").split(",") if m)
        self.requests = 0
        self.texts = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out at once, not held back by Nagle.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *a):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        st = self.server.state
        if self.path.rstrip("/") == "/stats":
            with st.lock:
                return self.answer(200, {"requests": st.requests, "texts": st.texts})
        self.answer(404, {"error": {"message": "not found"}})

    def do_POST(self):
        st = self.server.state
        raw = self.body()
        if self.path.rstrip("/") == "/control":
            knobs = json.loads(raw or b"{}")
            with st.lock:
                st.fail_next = int(knobs.get("fail_next", st.fail_next))
                st.delay_ms = int(knobs.get("delay_ms", st.delay_ms))
            return self.answer(200, {"ok": True})
        if not self.path.rstrip("/").endswith("/embeddings"):
            return self.answer(404, {"error": {"message": "not found: " + self.path}})
        with st.lock:
            st.requests += 1
            fail = st.fail_next > 0
            if fail:
                st.fail_next -= 1
            delay = st.delay_ms
        if delay:
            time.sleep(delay / 1000.0)
        if fail:
            return self.answer(500, {"error": {"message": "injected failure"}})
        if st.api_key and self.headers.get("Authorization") != "Bearer " + st.api_key:
            return self.answer(401, {"error": {"message": "bad api key"}})
        try:
            req = json.loads(raw)
            texts = req["input"]
            model = req["model"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400, {"error": {"message": "expected {model, input}"}})
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return self.answer(400, {"error": {"message": "input must be a string or a list of strings"}})
        if st.models and model not in st.models:
            return self.answer(404, {"error": {"message": "model %r not found" % model}})
        with st.lock:
            st.texts += len(texts)
        data = [{"object": "embedding", "index": i, "embedding": embed(t, st.dim)} for i, t in enumerate(texts)]
        self.answer(200, {"object": "list", "model": model, "data": data, "usage": {"prompt_tokens": 0, "total_tokens": 0}})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument("--bind", default=None, help="HOST:PORT (instead of --host and --port)")
    p.add_argument("--dim", type=int, default=8)
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--api-key", default=None)
    p.add_argument("--models", default=None)
    args = p.parse_args()
    if args.bind:
        host, _, port = args.bind.rpartition(":")
        args.host, args.port = host or "127.0.0.1", int(port)
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    print("listening on %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
