"""A local HTTP receiver for the alert channel tests (a thread with http.server on
127.0.0.1): it records every POST and answers as the real service would (WeCom and
DingTalk ``{"errcode": 0}``, Feishu ``{"code": 0}``, Slack ``ok``, a webhook 200), or
with the failures queued in ``fail_next``."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ANSWERS = {
    "wecom": (200, {"errcode": 0, "errmsg": "ok"}),
    "dingtalk": (200, {"errcode": 0, "errmsg": "ok"}),
    "feishu": (200, {"code": 0, "msg": "success"}),
    "slack": (200, "ok"),
    "hook": (200, {"ok": True}),
}


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""

    @property
    def kind(self) -> str:
        return self.path.strip("/").split("/")[0]

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    fail_next: list[tuple[int, object]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def of(self, kind: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.kind == kind]


def start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver = holder["r"]
            parts = urlsplit(self.path)
            with receiver.lock:
                receiver.received.append(Received(parts.path, parse_qs(parts.query), dict(self.headers), body, parts.query))
                failure = receiver.fail_next.pop(0) if receiver.fail_next else None
            status, answer = failure or ANSWERS.get(parts.path.strip("/").split("/")[0], (200, {}))
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["r"] = Receiver(server)
    # shutdown() waits for the loop's next poll: 0.05 s rather than the default 0.5 s
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return holder["r"]
