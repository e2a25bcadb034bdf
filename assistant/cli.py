"""Command line: ``assistant ingest|ask|eval|bench|stats|schema|serve``. Thin: it only calls the package."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from .core import Assistant
from .errors import AssistantError, InvalidQuestionError, MissingPathError
from .models import Answer, Filters
from .questions import read_questions
from .settings import Settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Réponses chiffrées et sourcées sur les bulletins (ingest, ask, stats).",
)

StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="Dossier de données (défaut : ASSISTANT_DATA_DIR).", show_default=False)
]
ChromaOpt = Annotated[
    str | None, typer.Option("--chroma-url", help="Serveur Chroma (défaut : ASSISTANT_CHROMA_URL).", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie JSON (contrat de réponse).")]


def _assistant(store: Path | None, chroma_url: str | None, **kw: Any) -> Assistant:
    return Assistant(settings=Settings.from_env(data_dir=store, chroma_url=chroma_url), **kw)


def _fail(exc: AssistantError) -> None:
    typer.echo(f"Erreur : {exc.message}", err=True)
    if exc.hint:
        typer.echo(f"→ {exc.hint}", err=True)
    raise typer.Exit(exc.exit_code)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Fichiers ou dossiers de bulletins.")],
    prune: Annotated[bool, typer.Option("--prune", help="Retirer les bulletins disparus des dossiers.")] = False,
    reindex: Annotated[bool, typer.Option("--reindex", help="Tout reconstruire (changement de modèle).")] = False,
    store: StoreOpt = None,
    chroma_url: ChromaOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Indexe des bulletins (.txt, .md, .html) dans le magasin Chroma."""
    try:
        with _assistant(store, chroma_url, auto_ingest=False) as a:
            report = a.ingest(paths, prune=prune, reindex=reindex, show_progress=sys.stderr.isatty())
    except AssistantError as exc:
        _fail(exc)
        return
    if as_json:
        _print_json(report.model_dump(mode="json"))
    else:
        for failure in report.failed:
            typer.echo(f"Ignoré : {failure.reason}", err=True)
        typer.echo(report.summary())
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(2)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="Question en français.")] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="Une question par ligne (« - » : entrée standard) ; avec --json, une réponse JSON par ligne.",
        ),
    ] = None,
    as_json: JsonOpt = False,
    k: Annotated[int | None, typer.Option("-k", help="Nombre de passages récupérés.")] = None,
    date_from: Annotated[
        str | None, typer.Option("--date-from", help="Bulletins publiés à partir du (AAAA-MM-JJ).")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--date-to", help="Bulletins publiés jusqu'au (AAAA-MM-JJ).")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="Limiter à ce bulletin (répétable).")] = None,
    store: StoreOpt = None,
    chroma_url: ChromaOpt = None,
) -> None:
    """Pose une question (ou un fichier de questions) ; affiche la réponse et ses sources."""
    if (question is None) == (file is None):
        raise typer.BadParameter("donnez une question, ou --file FICHIER (une question par ligne).")
    try:
        filters = Filters(date_from=_date(date_from), date_to=_date(date_to), sources=tuple(source or ()))
        questions = [question] if question is not None else read_questions(_read_text(file))
        with _assistant(store, chroma_url) as a:
            for answer in a.ask_many(questions, filters=filters, k=k):
                _show_answer(answer, as_json=as_json, lines=file is not None)
    except AssistantError as exc:
        _fail(exc)


def _read_text(file: Path | None) -> str:
    """The questions file, or standard input for ``-``, as UTF-8."""
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else Path(str(file)).read_bytes()
        return data.decode("utf-8-sig")
    except OSError as exc:
        raise MissingPathError(f"Fichier de questions illisible : {file} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InvalidQuestionError(f"Fichier de questions non UTF-8 : {file}") from None


def _show_answer(answer: Answer, *, as_json: bool, lines: bool) -> None:
    if as_json:
        data = answer.to_dict()
        typer.echo(json.dumps(data, ensure_ascii=False) if lines else json.dumps(data, ensure_ascii=False, indent=2))
        return
    if lines:
        typer.echo(f"? {answer.question}")
    typer.echo(answer.to_text(suggestions=True))
    if lines:
        typer.echo("")


@app.command("eval")
def eval_gold(
    gold: Annotated[Path, typer.Argument(help="Fichier de référence JSONL (voir docs/evaluation.md).")],
    corpus: Annotated[
        list[Path] | None,
        typer.Option(
            "--corpus", help="Indexer ce dossier ou fichier dans un magasin temporaire neuf d'abord (répétable)."
        ),
    ] = None,
    k: Annotated[int | None, typer.Option("-k", help="Nombre de passages récupérés par question.")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Écrire le rapport Markdown (échecs inclus).")] = None,
    min_accuracy: Annotated[
        float | None, typer.Option("--min-accuracy", help="Code de sortie 1 si l'exactitude est inférieure (0-1).")
    ] = None,
    store: StoreOpt = None,
    chroma_url: ChromaOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Évalue l'assistant sur un jeu de questions de référence (exactitude, citations, rappel, latence)."""
    from .evaluation import run_eval

    try:
        settings = Settings.from_env(data_dir=store, chroma_url=chroma_url)
        result = run_eval(gold, corpus=corpus, settings=settings, k=k, show_progress=sys.stderr.isatty())
    except AssistantError as exc:
        _fail(exc)
        return
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(result.to_markdown(), encoding="utf-8")
    if as_json:
        _print_json(result.to_dict())
    else:
        typer.echo(result.summary())
        if report is not None:
            typer.echo(f"Rapport : {report}")
    if min_accuracy is not None and result.accuracy < min_accuracy:
        typer.echo(f"Exactitude {result.accuracy:.1%} < seuil {min_accuracy:.1%}", err=True)
        raise typer.Exit(1)


@app.command("train-reader")
def train_reader(
    piaf: Annotated[
        Path | None, typer.Option("--piaf", help="Dossier piaf-dev (gold.jsonl, corpus/) ; défaut ../shared/piaf-dev.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Fichier du modèle (défaut : assistant/reading/reader_model.json).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Ne rien écrire ; code 1 si le modèle livré diffère du modèle reconstruit.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Reconstruit le modèle du lecteur (régression logistique, validation croisée groupée par article)."""
    from .reading import train

    try:
        result = train.train(
            piaf_dir=piaf or train.PIAF_DIR,
            progress=(lambda m: typer.echo(m, err=True)) if sys.stderr.isatty() else None,
        )
        path = out or train.MODEL_PATH
        if check:
            same = train.is_current(result.model, path)
        else:
            train.write(result.model, path)
    except AssistantError as exc:
        _fail(exc)
        return
    if as_json:
        _print_json(result.report)
    else:
        typer.echo(train.summary(result))
        typer.echo(f"Modèle : {path}" + ("" if not check else (" (identique)" if same else " (DIFFÉRENT)")))
    if check and not same:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Adresse d'écoute (127.0.0.1 : cette machine).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port HTTP.")] = 8080,
    store: StoreOpt = None,
    chroma_url: ChromaOpt = None,
    auto_ingest: Annotated[
        bool, typer.Option("--auto-ingest/--no-auto-ingest", help="Indexer ASSISTANT_CORPUS_DIR si magasin vide.")
    ] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error.")] = "info",
    access_log: Annotated[bool, typer.Option("--access-log/--no-access-log", help="Journal des requêtes.")] = True,
) -> None:
    """Sert l'API HTTP (POST /ask, /ask/batch, /ingest ; GET /stats, /health, /sources/{id} ; doc sur /docs)."""
    from .http_api import serve as run_api

    if log_level.lower() not in ("critical", "error", "warning", "info", "debug", "trace"):
        raise typer.BadParameter("debug, info, warning, error ou critical.", param_hint="--log-level")
    try:
        settings = Settings.from_env(data_dir=store, chroma_url=chroma_url)
        run_api(settings, host=host, port=port, log_level=log_level, auto_ingest=auto_ingest, access_log=access_log)
    except AssistantError as exc:
        _fail(exc)


@app.command()
def bench(
    out: Annotated[Path, typer.Option("--out", help="Dossier des résultats.")] = Path("bench"),
    quick: Annotated[bool, typer.Option("--quick", help="Petit passage de contrôle (200 et 1 000 chunks).")] = False,
    sizes: Annotated[
        str | None, typer.Option("--sizes", help="Tailles de corpus en chunks, ex. 1000,10000,100000.")
    ] = None,
    maximum: Annotated[
        int, typer.Option("--max", help="Taille maximale admise (1000000 pour ajouter 1M aux tailles par défaut).")
    ] = 100_000,
    queries: Annotated[int | None, typer.Option("--queries", help="Questions chronométrées par taille.")] = None,
    ingest_chunks: Annotated[
        int | None, typer.Option("--ingest-chunks", help="Chunks du test de débit d'indexation (0 : sauter).")
    ] = None,
    encode_upto: Annotated[
        int | None, typer.Option("--encode-upto", help="Au-delà, vecteurs synthétiques bon marché au lieu du modèle.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Graine du générateur de bulletins.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Mesure le débit d'indexation et la latence des questions selon la taille du corpus (bench/)."""
    from .bench import run_bench

    try:
        chosen = [int(x.replace("_", "")) for x in sizes.split(",") if x.strip()] if sizes else None
    except ValueError:
        typer.echo(f"Erreur : --sizes invalide : {sizes!r}", err=True)
        raise typer.Exit(2) from None
    try:
        result = run_bench(
            out,
            sizes=chosen,
            maximum=maximum,
            queries=queries,
            ingest_chunks=ingest_chunks,
            encode_upto=encode_upto,
            seed=seed,
            quick=quick,
            show_progress=sys.stderr.isatty(),
        )
    except AssistantError as exc:
        _fail(exc)
        return
    if as_json:
        _print_json(result.to_dict())
    else:
        typer.echo(result.to_markdown())
        typer.echo(f"Résultats : {out}/results.json, {out}/summary.md, {out}/latency.png, {out}/ingest.png")


@app.command()
def stats(store: StoreOpt = None, chroma_url: ChromaOpt = None, as_json: JsonOpt = False) -> None:
    """Décrit le magasin : bulletins, chunks, dates, modèle."""
    try:
        with _assistant(store, chroma_url, auto_ingest=False) as a:
            s = a.stats()
    except AssistantError as exc:
        _fail(exc)
        return
    if as_json:
        _print_json(s.model_dump(mode="json"))
        return
    typer.echo(f"Magasin : {s.store}")
    typer.echo(f"Bulletins : {s.bulletins}   chunks : {s.chunks}")
    typer.echo(f"Dates : {s.date_min or '?'} → {s.date_max or '?'}")
    typer.echo(f"Modèle : {s.embedding_model} (dimension {s.dimension})")
    typer.echo(f"Dernière indexation : {s.last_ingest or 'jamais'}")


@app.command()
def schema() -> None:
    """Affiche le JSON Schema du contrat de réponse (docs/answer.schema.json)."""
    from .models import answer_json_schema

    _print_json(answer_json_schema())


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AssistantError(f"Date invalide : {text!r}", hint="Format attendu : AAAA-MM-JJ.") from None


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
