"""Real servers for tests: `command-center serve` (gunicorn) on a loopback port, and a private
redis-server, each started as the product or an operator would start it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

START_WAIT_S = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, instance: Path, **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """`command-center serve` on a free loopback port against the pool at `url` (2 workers x 4 threads
    unless `settings` say otherwise), its log in <instance>/server.log; returns once /healthz answers."""
    port = free_port()
    env = dict(
        os.environ,
        CC_DATABASE_URL=url,
        CC_INSTANCE_DIR=str(instance),
        CC_BIND=f"127.0.0.1:{port}",
        CC_WORKERS="2",
        CC_THREADS="4",
    )
    env.update(settings)
    exe = Path(sys.executable).with_name("command-center")
    instance.mkdir(parents=True, exist_ok=True)
    log = open(instance / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen([str(exe), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    # a readiness wait, not a speed check: gunicorn imports every page in each worker, which on a
    # loaded 2-core machine has taken over 30 s
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(instance / 'server.log').read_text()[-2000:]}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            return proc, base
        except urllib.error.HTTPError:
            return proc, base  # 503 from a missing pool is still a running server
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"server did not start in {START_WAIT_S} s")


def stop(procs: list[subprocess.Popen[bytes]], *, quick: bool = False) -> None:
    """SIGTERM: gunicorn's graceful stop (open keep-alive connections can hold it for its
    graceful_timeout); quick: SIGINT, its immediate stop, for a test that has read every answer."""
    for p in procs:
        p.send_signal(signal.SIGINT if quick else signal.SIGTERM)
    for p in procs:
        p.wait(timeout=15)


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def start_redis(port: int) -> subprocess.Popen[bytes]:
    """A private redis-server on loopback `port`, keeping nothing on disk; returns once it answers PING."""
    exe = redis_server_binary()
    assert exe, "redis-server is not installed"
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"redis-server did not answer on port {port}")
