"""The model server: serves the published model to the Rasa servers that poll it.

    python -m bot.models_server --port 5007 [--host 127.0.0.1] [--model-file PATH]

The file defaults to MODEL_PUBLISH_FILE (models/published/sms-bot.tar.gz).

`GET /model`: the published tarball with `ETag: <sha256>`; 304 when the caller's
`If-None-Match` holds that ETag (the caller runs it, its first value, or refused it before),
404 before anything is published.
`GET /status`: the published ETag and, for each poller (a Rasa server, `?poller=host:port`),
the model it last said it runs, when, and the last model it refused to load and why
(its `X-Model-Refused: <etag> <reason>`); `python -m bot publish-model` waits on it.
Nothing here changes the model: publishing is a file replaced on this machine
(`make reload`). With MODEL_SERVER_TOKEN set, both routes want
`Authorization: Bearer <token>` (the model holds the training data).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from bot.model_files import CHUNK, EtagCache
from bot.settings import settings_or_exit

logger = logging.getLogger(__name__)


class ModelServer(ThreadingHTTPServer):
    """Holds what the handlers share: the file, the token, who polled with what."""

    daemon_threads = True

    def __init__(self, address: Tuple[str, int], model_file: Path, token: str) -> None:
        super().__init__(address, Handler)
        self.model_file = model_file
        self.token = token
        self.etags = EtagCache()
        # poller -> (the ETag it runs, when it last polled, its last refused ETag and why)
        self.pollers: Dict[str, Tuple[str, float, Optional[Dict[str, str]]]] = {}
        self.lock = threading.Lock()

    def published_etag(self) -> Optional[str]:
        try:
            return self.etags.etag(self.model_file)
        except FileNotFoundError:
            return None

    def status(self) -> dict:
        now = time.time()
        with self.lock:
            pollers = {
                name: {
                    "fingerprint": fingerprint,
                    "seen_seconds_ago": round(now - seen, 2),
                    "refused": refused,
                }
                for name, (fingerprint, seen, refused) in sorted(self.pollers.items())
            }
        return {"etag": self.published_etag(), "pollers": pollers}


def refused_model(header: str) -> Optional[Dict[str, str]]:
    """`<etag> <reason>` (a poller's X-Model-Refused) as {"etag", "reason"}; None if empty."""
    etag, _, reason = header.strip().partition(" ")
    return {"etag": etag[:100], "reason": reason.strip()[:200]} if etag else None


class Handler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if not self.authorized():
            return self.reply(401, b'{"error": "token required"}')
        if url.path == "/model":
            return self.send_model(parse_qs(url.query).get("poller", [""])[0][:200])
        if url.path == "/status":
            return self.reply(200, json.dumps(self.server.status()).encode())
        return self.reply(404, b'{"error": "not found"}')

    def authorized(self) -> bool:
        token = self.server.token
        if not token:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def send_model(self, poller: str) -> None:
        # the ETag the caller runs, then any it refused to load: none is sent again
        header = self.headers.get("If-None-Match") or ""
        offered = [value.strip().strip('"') for value in header.split(",")]
        running = offered[0]
        if poller:
            refused = refused_model(self.headers.get("X-Model-Refused") or "")
            with self.server.lock:
                self.server.pollers[poller] = (running, time.time(), refused)
        try:
            model = open(self.server.model_file, "rb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            return self.reply(404, b'{"error": "no model published"}')
        with model:  # a file replaced meanwhile (publishing) does not change what is open
            etag = self.server.etags.etag_of(model)
            if etag in offered:
                return self.reply(304, b"", {"ETag": etag})
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(os.fstat(model.fileno()).st_size))
            self.send_header("ETag", etag)
            self.send_header("filename", "model.tar.gz")
            self.end_headers()
            for chunk in iter(lambda: model.read(CHUNK), b""):
                self.wfile.write(chunk)

    def reply(self, status: int, body: bytes, headers: Optional[Dict[str, str]] = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and status != 304:
            self.wfile.write(body)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.models_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5007)
    parser.add_argument("--model-file", type=Path, help="default: MODEL_PUBLISH_FILE")
    args = parser.parse_args(argv)
    settings = settings_or_exit("model server")
    args.model_file = args.model_file or settings.model_publish_file
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    server = ModelServer((args.host, args.port), args.model_file, settings.model_server_token)
    logger.info("serving %s on http://%s:%s/model", args.model_file, args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
