"""LLM servers for the generation tests: a scripted OpenAI-compatible (and Ollama) server, and the tiny model.

Not a conftest: test modules that need these fixtures list it in ``pytest_plugins`` (as with
``conftest_server``), so the servers start once per session and only when used. Both listen on loopback.

The scripted server answers by *model name*: a test registers a :class:`Script` (the text to return, or
an HTTP status, a delay, a raw body) under a fresh name and builds an assistant asking for that model,
so every guard rule is exercised with a chosen text, deterministically.

PYTEST_DONT_REWRITE
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant import Assistant
from assistant.embeddings import Embedder
from assistant.generation.local_server import LocalModelUnavailable, LocalServer, tiny_model_server


@dataclass(frozen=True)
class Script:
    """What the scripted server does for one model name."""

    text: str = ""
    status: int = 200
    delay_s: float = 0.0
    raw: bytes | None = None  # a body sent as is (garbage)
    finish: str = "stop"
    chunk_delay_s: float = 0.0  # streaming: pause before each piece (a slow model, for the browser to see)


@dataclass
class ScriptedLLM:
    """The running scripted server: ``add(script)`` gives the model name to ask for."""

    port: int
    scripts: dict[str, Script] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=itertools.count)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ollama_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, script: Script) -> str:
        name = f"scripted-{next(self._names)}"
        self.scripts[name] = script
        return name

    def requests_for(self, model: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("model") == model]


def _handler(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            llm.requests.append(body)
            script = llm.scripts.get(body.get("model", ""), Script(status=404))
            if script.delay_s:
                time.sleep(script.delay_s)
            if script.status != 200:
                error = {"error": {"message": f"scripted {script.status}", "type": "server_error"}}
                return self._send(script.status, json.dumps(error).encode())
            if script.raw is not None:
                return self._send(200, script.raw)
            ollama = self.path.startswith("/api/")
            if body.get("stream"):
                return self._stream(body, script, ollama)
            if ollama:
                message = {"role": "assistant", "content": script.text}
                out = {"model": body["model"], "message": message, "done": True, "done_reason": script.finish}
            else:
                choice = {"index": 0, "message": {"role": "assistant", "content": script.text}}
                out = {
                    "id": "chatcmpl-scripted",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [{**choice, "finish_reason": script.finish}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
            self._send(200, json.dumps(out).encode())

        def _send(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, body: dict[str, Any], script: Script, ollama: bool) -> None:
            pieces = [script.text[i : i + 7] for i in range(0, len(script.text), 7)]
            lines: list[bytes] = []
            for piece in pieces:
                if ollama:
                    chunk = {"model": body["model"], "message": {"role": "assistant", "content": piece}, "done": False}
                    lines.append(json.dumps(chunk).encode() + b"\n")
                else:
                    delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                    lines.append(b"data: " + json.dumps(self._chunk(body, delta)).encode() + b"\n\n")
            if ollama:
                last = {"model": body["model"], "message": {"role": "assistant", "content": ""}, "done": True}
                lines.append(json.dumps({**last, "done_reason": script.finish}).encode() + b"\n")
            else:
                end = {"index": 0, "delta": {}, "finish_reason": script.finish}
                lines += [b"data: " + json.dumps(self._chunk(body, end)).encode() + b"\n\n", b"data: [DONE]\n\n"]
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in lines:
                time.sleep(script.chunk_delay_s)
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")

        @staticmethod
        def _chunk(body: dict[str, Any], choice: dict[str, Any]) -> dict[str, Any]:
            return {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body["model"],
                "choices": [choice],
            }

    return Handler


@pytest.fixture(scope="session")
def scripted_llm() -> Iterator[ScriptedLLM]:
    """The scripted OpenAI-compatible / Ollama server, on a free loopback port for the whole session."""
    llm = ScriptedLLM(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(llm))
    server.daemon_threads = True
    llm.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="scripted-llm", daemon=True)
    thread.start()
    yield llm
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="session")
def tiny_llm() -> Iterator[LocalServer]:
    """SmolLM2-135M-Instruct served by xllamacpp on loopback (the GGUF's SHA-256 checked first)."""
    try:
        with tiny_model_server() as server:
            yield server
    except LocalModelUnavailable as exc:  # pragma: no cover - the dev extra and install.sh provide both
        pytest.fail(f"tiny model unavailable: {exc}")


LlmAssistantFactory = Callable[..., Assistant]


@pytest.fixture(scope="session")
def llm_assistant(corpus_assistant: Assistant, embedder: Embedder) -> LlmAssistantFactory:
    """Factory: an assistant on the shared corpus store with LLM settings (``llm_url``, ``llm_model``...).

    It shares the corpus store (not closed here: ``corpus_assistant`` owns it); only its settings differ.
    """

    def factory(**llm: Any) -> Assistant:
        settings = dataclasses.replace(corpus_assistant.settings, **llm)
        return Assistant(settings=settings, embedder=embedder, store=corpus_assistant.store, auto_ingest=False)

    return factory
