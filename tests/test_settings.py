"""One settings object: defaults < environment < explicit arguments; bad values are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.errors import ConfigError
from assistant.settings import E5_MODEL, PROJECT_ROOT, Settings


def test_defaults_without_environment() -> None:
    s = Settings.from_env(env={})
    assert s.embedding_model == E5_MODEL and s.model_dir == PROJECT_ROOT / ".models"
    assert s.data_dir == PROJECT_ROOT / ".assistant-data" and s.chroma_dir == s.data_dir / "chroma"
    assert (s.top_k, s.chunk_tokens, s.query_threads, s.chroma_url, s.api_keys) == (12, 128, 1, None, ())


def test_environment_is_read_and_typed(tmp_path: Path) -> None:
    env = {
        "ASSISTANT_DATA_DIR": str(tmp_path / "store"),
        "ASSISTANT_TOP_K": "5",
        "ASSISTANT_LOCK_TIMEOUT": "0.5",
        "ASSISTANT_QUERY_THREADS": "0",
        "ASSISTANT_API_KEYS": " k1, k2 ,,",
        "ASSISTANT_CHROMA_URL": "",  # empty means unset
        "ASSISTANT_EMBEDDING_BACKEND": "torch",
    }
    s = Settings.from_env(env=env)
    assert s.data_dir == tmp_path / "store" and s.top_k == 5 and s.lock_timeout_s == 0.5
    assert s.query_threads == 0 and s.api_keys == ("k1", "k2") and s.chroma_url is None
    assert s.embedding_backend == "torch"


def test_explicit_arguments_win_over_the_environment(tmp_path: Path) -> None:
    s = Settings.from_env(env={"ASSISTANT_TOP_K": "5", "ASSISTANT_DATA_DIR": "/nowhere"}, top_k=3, data_dir=tmp_path)
    assert (s.top_k, s.data_dir) == (3, tmp_path)
    assert Settings.from_env(env={"ASSISTANT_TOP_K": "5"}, top_k=None).top_k == 5  # None: not given


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ASSISTANT_TOP_K": "douze"}, "ASSISTANT_TOP_K = 'douze' : un entier attendu"),
        ({"ASSISTANT_LOCK_TIMEOUT": "3s"}, "ASSISTANT_LOCK_TIMEOUT = '3s' : un nombre attendu"),
        ({"ASSISTANT_TOP_K": "0"}, "ASSISTANT_TOP_K = 0 : au moins 1 attendu"),
        ({"ASSISTANT_CHUNK_TOKENS": "4"}, "ASSISTANT_CHUNK_TOKENS = 4 : au moins 16 attendu"),
        ({"ASSISTANT_QUERY_THREADS": "-1"}, "ASSISTANT_QUERY_THREADS = -1 : au moins 0 attendu"),
        ({"ASSISTANT_EMBEDDING_BACKEND": "gpu"}, "BACKEND = .gpu. : onnx-int8, onnx, torch attendu"),
    ],
)
def test_bad_values_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env=env)


def test_cli_reports_a_bad_setting_with_exit_code_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_TOP_K", "beaucoup")
    result = CliRunner().invoke(app, ["stats"])
    assert result.exit_code == 2
    assert "ASSISTANT_TOP_K = 'beaucoup' : un entier attendu" in result.output
