"""Real server processes for the tests: ``chroma run`` and ``assistant serve``.

Not a conftest (pytest only auto-loads ``conftest.py``): the modules that need these
fixtures list it in ``pytest_plugins``, so it is registered once (session fixtures are
built once) and the other tests never pay for a server. Every process is started
here, on a free loopback port, and stopped by its own handle (terminate, wait, kill
on timeout).

PYTEST_DONT_REWRITE: the test modules also import its helpers before pytest registers it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.embeddings import Embedder
from assistant.settings import Settings

from .conftest import CORPUS

BIN = Path(sys.executable).parent
CHROMA = BIN / "chroma"


def assistant_command() -> list[str]:
    """The ``assistant`` console script of this venv (or ``python -m assistant.cli``)."""
    script = BIN / "assistant"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ASSISTANT_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


class _Process:
    """A child process logging to a file, polled on an HTTP URL until ready."""

    name = "process"

    def __init__(self, log: Path, port: int | None = None) -> None:
        self.log = log
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str] | None:
        return None

    def ready(self, client: httpx.Client) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 120.0) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process without waiting (several can then load in parallel)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT, env=self.env())

    def wait_ready(self, timeout: float = 120.0) -> None:
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{_tail(self.log)}")
                try:
                    if self.ready(client):
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{_tail(self.log)}")

    def stop(self, timeout: float = 20.0) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        return proc.returncode


class ChromaServer(_Process):
    """``chroma run --path DIR --port N --host 127.0.0.1``, ready when the heartbeat answers."""

    name = "chroma run"

    def __init__(self, path: Path, log: Path, port: int | None = None) -> None:
        super().__init__(log, port)
        self.path = path

    def command(self) -> list[str]:
        return [str(CHROMA), "run", "--path", str(self.path), "--port", str(self.port), "--host", "127.0.0.1"]

    def ready(self, client: httpx.Client) -> bool:
        return client.get(f"{self.url}/api/v2/heartbeat").status_code == 200

    def restart(self) -> None:
        """Stop, then start again on the same data folder and port."""
        self.stop()
        self.start()


class ApiServer(_Process):
    """``assistant serve`` on loopback, ready when ``/health`` says ok (model loaded, store open)."""

    name = "assistant serve"

    def __init__(self, log: Path, env: dict[str, str], args: Sequence[str] = (), port: int | None = None) -> None:
        super().__init__(log, port)
        self._env = env
        self.args = list(args)

    def command(self) -> list[str]:
        return [
            *assistant_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            *self.args,
        ]

    def env(self) -> dict[str, str] | None:
        return self._env

    def ready(self, client: httpx.Client) -> bool:
        return client.get(f"{self.url}/health").status_code == 200


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real Chroma server on a free loopback port, for the whole module."""
    base = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(base / "db", base / "chroma.log")
    server.start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """Data folder of an embedded store holding the bundled corpus, closed (lock released).

    Server processes get a copy (:func:`store_copy`), never this folder, which
    this process's Chroma client may still hold open.
    """
    data = tmp_path_factory.mktemp("built-store")
    with Assistant(settings=Settings.from_env(env={}, data_dir=data), embedder=embedder, auto_ingest=False) as a:
        a.ingest([CORPUS])
    return data


def store_copy(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns(".assistant.lock"))
    return dest
