"""Optional LLM generation: each guard rule and each failure on a scripted real HTTP server, then the tiny
SmolLM2 model served by llama.cpp (xllamacpp) end to end. Whatever the LLM writes, every figure returned
is in the quote it cites."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from assistant import Assistant
from assistant.errors import ConfigError
from assistant.evaluation import faithful, load_gold
from assistant.generation import StreamEvent, check
from assistant.generation.guard import is_french, unverified_figures
from assistant.generation.local_server import GGUF_SHA256, LocalServer, free_port, verified_gguf
from assistant.models import Answer
from assistant.settings import Settings

from .conftest import GOLD, ROOT
from .conftest_llm import LlmAssistantFactory, Script, ScriptedLLM

pytest_plugins = ["tests.conftest_llm"]

Q = "Combien d'assurés ont activé Mon Espace Santé ?"
Q_MONTHLY = "Combien de personnes se connectent chaque mois à Mon Espace Santé selon le dernier bilan ?"
Q_GROWTH = (
    "De combien le nombre d'assurés ayant activé Mon Espace Santé a-t-il augmenté entre janvier 2025 et janvier 2026 ?"
)
RIGHT = "Selon le bilan publié le 29 janvier 2026, 24 millions d’assurés ont activé Mon Espace Santé [1]."


@pytest.fixture(scope="module")
def extractive(corpus_assistant: Assistant) -> dict[str, Answer]:
    return {q: corpus_assistant.ask(q) for q in (Q, Q_MONTHLY, Q_GROWTH)}


def scripted(scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, script: Script, **kw: object) -> Assistant:
    model = scripted_llm.add(script)
    return llm_assistant(llm_url=scripted_llm.base_url, llm_model=model, **{"llm_timeout_s": 10.0, **kw})


def assert_extractive(answer: Answer, reference: Answer, reason: str) -> None:
    """The reader's answer unchanged, with ``generation.used = false`` and a reason starting with ``reason``."""
    assert answer.generation is not None and not answer.generation.used
    assert answer.generation.reason is not None and answer.generation.reason.startswith(reason), answer.generation
    assert answer.answer == reference.answer and answer.figures == reference.figures
    assert answer.citations == reference.citations


# -- off by default ----------------------------------------------------------------------------------------
def test_without_llm_settings_nothing_changes(corpus_assistant: Assistant, extractive: dict[str, Answer]) -> None:
    assert corpus_assistant.generator is None and extractive[Q].generation is None
    events = list(corpus_assistant.ask_stream(Q))
    assert [e.kind for e in events] == ["final"] and events[0].answer is not None
    assert events[0].answer.answer == extractive[Q].answer and events[0].answer.generation is None
    code = (
        "import sys; from assistant import Assistant; from assistant.settings import Settings; "
        "a = Assistant(settings=Settings.from_env(env={})); assert a.generator is None; "
        "print(sorted(m for m in ('langchain_openai', 'langchain_ollama', 'openai', 'ollama') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_llm_settings_from_the_environment() -> None:
    env = {
        "ASSISTANT_LLM_URL": "http://127.0.0.1:8080/v1",
        "ASSISTANT_LLM_MODEL": "qwen",
        "ASSISTANT_LLM_API_KEY": "sk-secret",
        "ASSISTANT_LLM_TIMEOUT": "5",
        "ASSISTANT_LLM_MAX_TOKENS": "200",
    }
    s = Settings.from_env(env=env)
    assert s.llm_enabled and s.llm_kind == "openai" and (s.llm_timeout_s, s.llm_max_tokens) == (5.0, 200)
    assert "sk-secret" not in repr(s)
    assert not Settings.from_env(env={}).llm_enabled
    ollama = Settings.from_env(env={"ASSISTANT_LLM_PROVIDER": "ollama", "ASSISTANT_LLM_MODEL": "mistral"})
    assert ollama.llm_enabled and ollama.llm_kind == "ollama" and ollama.llm_url is None
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_PROVIDER = 'gpt'"):
        Settings.from_env(env={"ASSISTANT_LLM_PROVIDER": "gpt"})
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_MODEL manquant"):
        Settings.from_env(env={"ASSISTANT_LLM_URL": "http://127.0.0.1:8080/v1"})
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_TIMEOUT = 0"):
        Settings.from_env(env={"ASSISTANT_LLM_TIMEOUT": "0"})


def test_chat_models_are_langchains_own() -> None:
    from langchain_ollama import ChatOllama
    from langchain_openai import ChatOpenAI

    from assistant.generation.llm import build_chat_model

    base = {"llm_model": "m", "llm_timeout_s": 7.0, "llm_max_tokens": 64}
    openai = build_chat_model(Settings.from_env(env={}, llm_url="http://127.0.0.1:9/v1", llm_api_key="k", **base))
    assert isinstance(openai, ChatOpenAI) and openai.max_retries == 0 and openai.request_timeout == 7.0
    assert openai.openai_api_base == "http://127.0.0.1:9/v1" and openai.max_tokens == 64
    ollama = build_chat_model(Settings.from_env(env={}, llm_provider="ollama", **base))
    assert isinstance(ollama, ChatOllama) and ollama.num_predict == 64


# -- the guard, rule by rule, through a real HTTP server -------------------------------------------------------
def test_a_right_answer_is_kept(scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, extractive) -> None:
    a = scripted(scripted_llm, llm_assistant, Script(RIGHT))
    answer = a.ask(Q)
    assert answer.generation is not None and answer.generation.used, answer.generation
    assert answer.answer == RIGHT and answer.generation.model == a.settings.llm_model
    assert answer.generation.latency_ms is not None and answer.generation.latency_ms > 0
    assert answer.figures == extractive[Q].figures and answer.citations == extractive[Q].citations
    assert faithful(answer) and unverified_figures(answer) == []
    request = scripted_llm.requests_for(a.settings.llm_model or "")[-1]
    prompt = "\n".join(m["content"] for m in request["messages"])
    assert "N'utilise que les chiffres des extraits" in prompt and extractive[Q].answer in prompt
    assert "[1] (bulletin du 29 janvier 2026) « Quatre ans après" in prompt
    assert request["temperature"] == 0 and request["stop"] == ["\n\n"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("25 millions d’assurés ont activé Mon Espace Santé [1].", "figure_not_in_citation", id="swapped"),
        pytest.param(
            "17 millions d’assurés ont activé Mon Espace Santé [1].", "figure_not_in_citation", id="other-passage"
        ),
        pytest.param("24 000 000 d’assurés ont activé Mon Espace Santé [1].", "figure_not_in_citation", id="respelled"),
        pytest.param(
            "24 millions de patients ont activé Mon Espace Santé [1].", "figure_not_in_citation", id="wrong-noun"
        ),
        pytest.param(
            "24 millions d’assurés ont activé Mon Espace Santé [1]. Le service compte 40 millions de carnets.",
            "figure_without_citation",
            id="no-marker",
        ),
        pytest.param(
            "En 2023, 24 millions d’assurés avaient activé Mon Espace Santé [1].",
            "figure_not_in_citation",
            id="invented-year",
        ),
        pytest.param("24 millions d’assurés ont activé Mon Espace Santé [7].", "unknown_citation", id="unknown-id"),
        pytest.param("Mon Espace Santé a été lancé en janvier 2022 [1].", "main_figure_missing", id="main-missing"),
        pytest.param("Mon Espace Santé progresse nettement selon le bilan.", "no_citation", id="no-citation"),
        pytest.param("", "empty", id="empty"),
        pytest.param(
            "According to the report, 24 millions of people have activated the service [1].",
            "not_french",
            id="english",
        ),
        pytest.param("24 millions d’assurés ont activé Mon Espace Santé [1]. " * 30, "too_long", id="too-long"),
    ],
)
def test_each_guard_rule_keeps_the_extractive_answer(
    scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, extractive, text: str, reason: str
) -> None:
    answer = scripted(scripted_llm, llm_assistant, Script(text)).ask(Q)
    assert_extractive(answer, extractive[Q], reason)
    assert faithful(answer) and unverified_figures(answer) == []


def test_a_figure_attached_to_the_wrong_citation_is_refused(
    scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, extractive
) -> None:
    a = scripted(scripted_llm, llm_assistant, Script("24 millions d’assurés ont activé Mon Espace Santé [2]."))
    answer = a.ask(Q)
    prompt = scripted_llm.requests_for(a.settings.llm_model or "")[-1]["messages"][-1]["content"]
    second = next(line for line in prompt.splitlines() if line.startswith("[2] "))
    assert "24 millions" not in second  # [2] is another passage, shown for context
    assert_extractive(answer, extractive[Q], "figure_not_in_citation: « 24 millions » absent de l'extrait [2]")


def test_a_rounded_figure_is_refused(scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, extractive) -> None:
    text = "Environ 3 millions de personnes se connectent chaque mois à Mon Espace Santé [1]."
    answer = scripted(scripted_llm, llm_assistant, Script(text)).ask(Q_MONTHLY)
    assert_extractive(answer, extractive[Q_MONTHLY], "figure_not_in_citation: « 3 millions »")


def test_a_computed_result_and_its_operands_pass(
    scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, extractive
) -> None:
    text = (
        "Entre janvier 2025 et janvier 2026, le nombre d’assurés ayant activé Mon Espace Santé est passé de "
        "17 millions [1] à 24 millions [2], soit une hausse de 7 millions."
    )
    answer = scripted(scripted_llm, llm_assistant, Script(text)).ask(Q_GROWTH)
    assert answer.generation is not None and answer.generation.used, answer.generation
    assert answer.computation == extractive[Q_GROWTH].computation and unverified_figures(answer) == []
    swapped = text.replace("17 millions [1] à 24 millions [2]", "17 millions [2] à 24 millions [1]")
    answer = scripted(scripted_llm, llm_assistant, Script(swapped)).ask(Q_GROWTH)
    assert_extractive(answer, extractive[Q_GROWTH], "figure_not_in_citation: « 17 millions »")


def test_a_divergence_between_bulletins_must_be_kept(
    scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, corpus_assistant: Assistant
) -> None:
    q = "Combien d'établissements alimentaient le DMP au 31 décembre 2024 ?"
    reference = corpus_assistant.ask(q)
    assert [(c.figure.value, c.citation) for c in reference.conflicts] == [(2900, 2)]
    silent = "3 050 établissements alimentaient le DMP au 31 décembre 2024 [1]."
    answer = scripted(scripted_llm, llm_assistant, Script(silent)).ask(q)
    assert_extractive(answer, reference, "conflict_missing: « 2\u202f900 » [2]")
    both = silent[:-1] + ", mais un autre bulletin en compte 2 900 [2]."
    answer = scripted(scripted_llm, llm_assistant, Script(both)).ask(q)
    assert answer.generation is not None and answer.generation.used, answer.generation


def test_an_extra_passage_cited_becomes_a_citation(
    scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, corpus_assistant: Assistant, extractive
) -> None:
    probe = scripted(scripted_llm, llm_assistant, Script(RIGHT))
    probe.ask(Q)
    prompt = scripted_llm.requests_for(probe.settings.llm_model or "")[-1]["messages"][-1]["content"]
    line = next(line for line in prompt.splitlines() if line.startswith("[3] "))
    first = re.split(r"(?<=[.!?])\s+", line.split("« ", 1)[1].rstrip(" »"))[0].rstrip(".")
    text = f"24 millions d’assurés ont activé Mon Espace Santé [1]. {first} [3]."
    answer = scripted(scripted_llm, llm_assistant, Script(text)).ask(Q)
    assert answer.generation is not None and answer.generation.used, answer.generation
    assert answer.answer.endswith("[2].") and [c.id for c in answer.citations] == [1, 2]  # renumbered
    extra = answer.citations[1]
    assert corpus_assistant.bulletin(extra.source).text[extra.start : extra.end] == extra.quote
    assert unverified_figures(answer) == []


def test_a_cut_text_keeps_its_complete_sentences(scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory) -> None:
    cut = scripted(scripted_llm, llm_assistant, Script(RIGHT + " Cela représente une", finish="length")).ask(Q)
    assert cut.generation is not None and cut.generation.used and cut.answer == RIGHT
    hopeless = scripted(scripted_llm, llm_assistant, Script("24 millions d’assurés ont", finish="length")).ask(Q)
    assert hopeless.generation is not None and hopeless.generation.reason is not None
    assert hopeless.generation.reason.startswith("truncated")


def test_an_abstention_calls_no_llm(scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory) -> None:
    a = scripted(scripted_llm, llm_assistant, Script("Le prix du pain est de 2 euros [1]."))
    answer = a.ask("Quel est le prix du pain ?")
    assert answer.abstained and answer.generation is not None and not answer.generation.used
    assert answer.generation.reason is not None and answer.generation.reason.startswith("abstention")
    assert scripted_llm.requests_for(a.settings.llm_model or "") == []


# -- failures are ordinary ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("script", "reason"),
    [
        pytest.param(Script(status=500), "llm_http_error: HTTP 500", id="http-500"),
        pytest.param(Script(status=429), "llm_http_error: HTTP 429", id="http-429"),
        pytest.param(Script(RIGHT, delay_s=3.0), "llm_timeout", id="timeout"),
        pytest.param(Script(raw=b"{not json at all"), "llm_error", id="garbage"),
        pytest.param(Script(raw=b'{"choices": []}'), "llm_error", id="no-choice"),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_llm_failures_give_the_extractive_answer(
    scripted_llm: ScriptedLLM,
    llm_assistant: LlmAssistantFactory,
    extractive,
    caplog: pytest.LogCaptureFixture,
    script: Script,
    reason: str,
    stream: bool,
) -> None:
    a = scripted(scripted_llm, llm_assistant, script, llm_timeout_s=1.0)
    with caplog.at_level("INFO", logger="assistant.generation"):
        answer = a.ask(Q) if not stream else list(a.ask_stream(Q))[-1].answer
    assert answer is not None
    assert_extractive(answer, extractive[Q], reason if not (stream and script.raw) else "")
    assert answer.generation is not None and answer.generation.reason
    assert any(answer.generation.reason in r.getMessage() for r in caplog.records)


def test_an_endpoint_down_gives_the_extractive_answer(llm_assistant: LlmAssistantFactory, extractive) -> None:
    a = llm_assistant(llm_url=f"http://127.0.0.1:{free_port()}/v1", llm_model="m", llm_api_key="sk-hidden")
    answer = a.ask(Q)
    assert_extractive(answer, extractive[Q], "llm_unreachable")
    assert "sk-hidden" not in json.dumps(answer.to_dict())
    final = list(a.ask_stream(Q))
    assert [e.kind for e in final] == ["final"] and final[0].answer is not None
    assert_extractive(final[0].answer, extractive[Q], "llm_unreachable")


# -- streaming ----------------------------------------------------------------------------------------------
def test_streaming_yields_deltas_then_the_guarded_answer(
    scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, extractive
) -> None:
    events = list(scripted(scripted_llm, llm_assistant, Script(RIGHT)).ask_stream(Q))
    assert all(isinstance(e, StreamEvent) for e in events) and events[-1].kind == "final"
    deltas = [e.text for e in events if e.kind == "delta"]
    assert len(deltas) > 5 and "".join(deltas) == RIGHT
    final = events[-1].answer
    assert final is not None and final.generation is not None and final.generation.used and final.answer == RIGHT
    assert "total_ms" in final.timings_ms
    wrong = RIGHT.replace("24 millions", "25 millions")
    events = list(scripted(scripted_llm, llm_assistant, Script(wrong)).ask_stream(Q))
    assert "".join(e.text for e in events if e.kind == "delta") == wrong  # shown while written...
    final = events[-1].answer
    assert final is not None  # ...then replaced by the reader's answer
    assert_extractive(final, extractive[Q], "figure_not_in_citation: « 25 millions »")


def test_ask_stream_checks_the_question_at_call_time(scripted_llm: ScriptedLLM, llm_assistant) -> None:
    from assistant.errors import InvalidQuestionError

    a = scripted(scripted_llm, llm_assistant, Script(RIGHT))
    with pytest.raises(InvalidQuestionError):
        a.ask_stream("   ")


@pytest.mark.parametrize("stream", [False, True], ids=["invoke", "stream"])
def test_ollama_through_langchain_ollama(
    scripted_llm: ScriptedLLM, llm_assistant: LlmAssistantFactory, extractive, stream: bool
) -> None:
    for text, used in ((RIGHT, True), (RIGHT.replace("24 millions", "25 millions"), False)):
        model = scripted_llm.add(Script(text))
        a = llm_assistant(llm_provider="ollama", llm_url=scripted_llm.ollama_url, llm_model=model)
        answer = list(a.ask_stream(Q))[-1].answer if stream else a.ask(Q)
        assert answer is not None and answer.generation is not None and answer.generation.used is used
        assert answer.answer == (RIGHT if used else extractive[Q].answer)


# -- the guard's helpers ----------------------------------------------------------------------------------------
def test_the_french_check_on_the_readers_answers_and_on_english(corpus_assistant: Assistant) -> None:
    gold = load_gold(GOLD)[:40]
    answers = [corpus_assistant.ask(it.question, history=it.history) for it in gold]
    assert all(is_french(a.answer) for a in answers)
    english = [
        "24 million insured people have activated Mon Espace Santé [1].",
        "According to the bulletin, the number of teleconsultations was 11.6 million in 2024 [1].",
        "The share of patients is 49 % [1] and it is growing.",
    ]
    assert not any(is_french(t) for t in english)


def test_check_directly_on_a_hand_made_answer(extractive: dict[str, Answer]) -> None:
    answer = extractive[Q]
    assert check(RIGHT, answer, answer.citations).ok
    assert check("24 millions d’assurés. [1] Voilà.", answer, answer.citations).ok  # marker after the period
    verdict = check("Au 29 janvier 2026 : 24 millions d’assurés [1][2].", answer, answer.citations)
    assert verdict.reason == "unknown_citation: [2] ne désigne aucun extrait"


# -- the tiny real model -----------------------------------------------------------------------------------------
def test_the_gguf_is_the_expected_file() -> None:
    import hashlib

    assert hashlib.sha256(verified_gguf().read_bytes()).hexdigest() == GGUF_SHA256


#: A plain question, a computation, an unanswerable one (the model must not be called): few, to keep CI short.
TINY_ITEMS = ("q001", "k01", "q108")


@pytest.fixture(scope="module")
def tiny_assistant(tiny_llm: LocalServer, llm_assistant: LlmAssistantFactory) -> Assistant:
    return llm_assistant(llm_url=tiny_llm.base_url, llm_model=tiny_llm.model, llm_max_tokens=80, llm_timeout_s=60.0)


@pytest.mark.slow
@pytest.mark.parametrize("item", [it for it in load_gold(GOLD) if it.id in TINY_ITEMS], ids=lambda it: it.id)
def test_tiny_model_end_to_end_keeps_every_figure_faithful(tiny_assistant: Assistant, item) -> None:
    answer = tiny_assistant.ask(item.question, history=item.history)
    assert answer.generation is not None
    assert answer.generation.used or answer.generation.reason
    assert faithful(answer) and unverified_figures(answer) == [], answer.answer
    if not answer.generation.used:
        assert answer.answer == tiny_assistant.context_chain.invoke({"question": item.question})["answer"].answer


@pytest.mark.slow
def test_tiny_model_streams_then_gives_a_guarded_answer(tiny_assistant: Assistant) -> None:
    events = list(tiny_assistant.ask_stream(Q))
    assert sum(e.kind == "delta" for e in events) >= 3 and [e.kind for e in events][-1] == "final"
    final = events[-1].answer
    assert final is not None and final.generation is not None
    assert final.generation.model == tiny_assistant.settings.llm_model
    assert faithful(final) and unverified_figures(final) == []
