"""A loopback HTTP server that answers like the Hugging Face Hub, and records what it was sent.

Only the network is fake: huggingface_hub's real client code talks to it through its real HTTP
stack (httpx2), exactly as it would talk to huggingface.co. It serves the endpoints a push
uses (create repo, create branch, validate-yaml, preupload, the git LFS batch API and its
uploads, commit) and the ones a download uses (HEAD/GET .../resolve/REVISION/FILE).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def ndjson(self) -> list[dict]:
        return [json.loads(line) for line in self.body.splitlines() if line.strip()]


@dataclass
class FakeHub:
    """`url` is the endpoint; `requests` what arrived; `files[repo_id][name]` what it serves;
    `status_for` maps a path regex to an HTTP status to fail with."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    lfs_uploads: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    status_for: dict[str, int] = field(default_factory=dict)

    def serve_folder(self, repo_id: str, folder: Path) -> None:
        self.files[repo_id] = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path.split("?")[0])]


def _etag(name: str, content: bytes) -> str:
    if name.endswith(".safetensors"):  # LFS files: the sha256, as the Hub gives it
        return hashlib.sha256(content).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()  # git blob id


def make_handler(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep pytest output clean
            pass

        def _reply(self, status: int, payload=None, headers: dict | None = None, body: bytes | None = None):
            data = body if body is not None else (b"" if payload is None else json.dumps(payload).encode())
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?")[0]
            hub.requests.append(Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            for pattern, status in hub.status_for.items():
                if re.fullmatch(pattern, path):
                    return self._reply(status, {"error": "refused by the test"})
            route = (self.command, path)
            if route == ("POST", "/api/repos/create"):
                request = json.loads(body)
                return self._reply(200, {"url": f"{hub.url}/{request['organization']}/{request['name']}"})
            if route == ("POST", "/api/validate-yaml"):
                return self._reply(200, {"errors": [], "warnings": []})
            if match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/preupload/(.+)", path):
                files = json.loads(body)["files"]
                modes = [{"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(".safetensors") else "regular",
                          "shouldIgnore": False, "oid": None} for f in files]
                return self._reply(200, {"files": modes, "commitOid": COMMIT})
            if match := re.fullmatch(r"/([^/]+/[^/]+)\.git/info/lfs/objects/batch", path):
                objects = [{"oid": o["oid"], "size": o["size"], "authenticated": True,
                            "actions": {"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}"}}}
                           for o in json.loads(body)["objects"]]
                return self._reply(200, {"transfer": "basic", "objects": objects})
            if self.command == "PUT" and (match := re.fullmatch(r"/lfs-upload/([0-9a-f]{64})", path)):
                hub.lfs_uploads[match.group(1)] = body
                return self._reply(200, {})
            if self.command == "POST" and re.fullmatch(r"/api/models/[^/]+/[^/]+/branch/.+", path):
                return self._reply(200, {})
            if self.command == "POST" and (match := re.fullmatch(r"/api/models/([^/]+/[^/]+)/commit/(.+)", path)):
                return self._reply(200, {"commitUrl": f"{hub.url}/{match.group(1)}/commit/{COMMIT}",
                                         "commitOid": COMMIT, "pullRequestUrl": None})
            if match := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
                repo_id, _, name = match.groups()
                if repo_id not in hub.files:
                    return self._reply(404, {"error": "repo"}, {"X-Error-Code": "RepoNotFound"})
                if name not in hub.files[repo_id]:
                    return self._reply(404, {"error": "entry"}, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": COMMIT})
                content = hub.files[repo_id][name]
                headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{_etag(name, content)}"'}
                return self._reply(200, headers=headers, body=content)
            return self._reply(404, {"error": f"the fake Hub has no route for {self.command} {path}"})

        do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _handle

    return Handler


def start_fake_hub() -> tuple[FakeHub, ThreadingHTTPServer]:
    hub = FakeHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(hub))
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return hub, server


def regular_file_contents(commit_request: Recorded) -> dict[str, bytes]:
    return {item["value"]["path"]: base64.b64decode(item["value"]["content"])
            for item in commit_request.ndjson() if item["key"] == "file"}


def lfs_file_oids(commit_request: Recorded) -> dict[str, str]:
    return {item["value"]["path"]: item["value"]["oid"] for item in commit_request.ndjson() if item["key"] == "lfsFile"}
