"""A real single-member etcd on loopback for tests and chapters: free ports, a temporary
(or given) data directory, health wait, SIGKILL and restart on the same data."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from kbook.controlplane.etcd.remote import RemoteEtcd
from kbook.errors import KbookError


class EtcdServerError(KbookError):
    """etcd could not be started (missing binary, or not healthy in time)."""


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class EtcdServer:
    """``etcd`` as a child process: ``with EtcdServer() as server: server.client().put(...)``."""

    def __init__(self, data_dir: str | Path | None = None, binary: str = "etcd", startup_timeout: float = 20.0) -> None:
        path = shutil.which(binary)
        if path is None:
            raise EtcdServerError(f"etcd binary {binary!r} not found on PATH (Debian package etcd-server)")
        self.binary = path
        self.startup_timeout = startup_timeout
        self._workdir = Path(tempfile.mkdtemp(prefix="kbook-etcd-"))
        self.data_dir = Path(data_dir) if data_dir is not None else self._workdir / "data"
        self.log_path = self._workdir / "etcd.log"
        self.client_port, self.peer_port, self.metrics_port = _free_ports(3)
        self.endpoint = f"http://127.0.0.1:{self.client_port}"
        self._proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available(binary: str = "etcd") -> bool:
        return shutil.which(binary) is not None

    def client(self) -> RemoteEtcd:
        return RemoteEtcd(self.endpoint)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "EtcdServer":
        """Start etcd and wait until ``/health`` says so."""
        if self.running:
            return self
        peer = f"http://127.0.0.1:{self.peer_port}"
        args = [self.binary, "--name", "kbook", "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.endpoint, "--advertise-client-urls", self.endpoint,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"kbook={peer}", "--listen-metrics-urls", f"http://127.0.0.1:{self.metrics_port}"]
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if self._healthy():
                return self
            time.sleep(0.02)
        self.kill()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise EtcdServerError(f"etcd at {self.endpoint} did not become healthy within {self.startup_timeout} s:\n{tail}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint + "/health", timeout=1) as resp:
                return json.loads(resp.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, like a crash or power loss of the process."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if etcd is still running after ``timeout`` seconds."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> "EtcdServer":
        """Stop etcd if it runs, then start it again on the same data directory and ports."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """Kill etcd and remove the temporary directory (a given data directory is kept)."""
        self.kill()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> "EtcdServer":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
