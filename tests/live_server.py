"""The app served by uvicorn in a thread on a free loopback port: for browser tests and the page
benchmark."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from codesign.app import create_app
from codesign.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings, **options: Any) -> None:
        """`options` go to uvicorn.Config (e.g. proxy_headers=True to test client addresses)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)  # polling for start-up, not timing anything
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ServedApp:
    """`codesign serve` in a subprocess, as deployed: several worker processes over one database.
    For tests where what one worker's device sees must follow what another worker wrote."""

    def __init__(self, database_url: str, secret: str, *, workers: int = 2, log: Path | None = None,
                 **env: str) -> None:
        import os
        import sys

        self.log = log  # where the server's output goes (default: this process's)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CODESIGN_")}
        self.env.update({"CODESIGN_ENV": "development", "CODESIGN_DATABASE_URL": database_url,
                         "CODESIGN_SECRET_KEY": secret, "CODESIGN_SECURE_COOKIES": "false",
                         "CODESIGN_LOG_LEVEL": "warning", **env})
        self.command = [sys.executable, "-m", "codesign.cli", "serve", "--host", "127.0.0.1",
                        "--port", str(self.port), "--workers", str(workers)]

    def __enter__(self) -> ServedApp:
        import http.client
        import subprocess

        out = self.log.open("ab") if self.log is not None else None
        try:
            self.proc = subprocess.Popen(self.command, env=self.env, start_new_session=True, stdout=out, stderr=out)
        finally:
            if out is not None:
                out.close()  # the child has its own copy
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"codesign serve exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return self
                finally:
                    conn.close()
            except OSError:
                pass
            time.sleep(0.05)  # polling for start-up, not timing anything
        self.__exit__()
        raise RuntimeError("codesign serve did not start")

    def __exit__(self, *exc: object) -> None:
        import os
        import signal
        import subprocess

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
