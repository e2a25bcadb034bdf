"""HTTP API over :class:`~assistant.core.Assistant`: the FastAPI app factory and ``serve``.

Thin like the CLI: request models check shapes, the core checks meaning (question
length, history), and every failure leaves as one JSON envelope
``{"error": {"type", "message", "hint"}}``. An unexpected failure is a 500 whose
envelope carries an error id; the traceback goes to the server log, never to the
client.

Blocking work (asking, ingesting, store reads) runs in FastAPI's threadpool (``def``
endpoints, or ``run_in_threadpool`` where the body must be awaited first); the
Assistant is thread-safe, so one instance serves every request of the process.
See ``docs/http-api.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import date
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, FastAPI, Query, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .core import Assistant
from .errors import AssistantError, BulletinError, InvalidQuestionError, MissingPathError
from .models import Answer, Filters, IngestReport, Message, StoreStats
from .settings import Settings
from .uploads import UPLOAD_SUFFIXES, check_size, original_file

log = logging.getLogger(__name__)

#: Most questions in one ``POST /ask/batch`` (an evaluation script sends its gold set in slices).
MAX_BATCH = 100
#: Most files in one ``POST /ingest`` upload.
MAX_UPLOAD_FILES = 20
#: Media types of the original files served by ``GET /sources/{id}?format=file``.
MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".markdown": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}
#: Body caps of the JSON endpoints: a question is at most 2,000 characters, history is short.
MAX_ASK_BODY = 1 << 20
MAX_BATCH_BODY = 8 << 20
MAX_HISTORY_TURNS = 50

# --------------------------------------------------------------------------
# Request / response models (published in /openapi.json)
# --------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FiltersIn(_In):
    """Which bulletins may answer: publication date range and/or bulletin ids."""

    date_from: date | None = Field(default=None, description="Bulletins published on or after (YYYY-MM-DD).")
    date_to: date | None = Field(default=None, description="Bulletins published on or before (YYYY-MM-DD).")
    sources: list[str] = Field(
        default_factory=list, max_length=200, description="Bulletin ids, e.g. 'corpus/bulletin-x.txt'."
    )

    @model_validator(mode="after")
    def _ordered(self) -> FiltersIn:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from est postérieure à date_to")
        return self

    def to_filters(self) -> Filters:
        return Filters(date_from=self.date_from, date_to=self.date_to, sources=tuple(self.sources))


class AskRequest(_In):
    """One question, with optional conversation history and filters."""

    question: str = Field(
        description="French question; at most ASSISTANT_MAX_QUESTION_CHARS characters (default 2000) "
        "once blanks are collapsed. Empty or longer: 422.",
        examples=["Combien d'assurés ont activé Mon Espace Santé ?"],
    )
    history: list[Message] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS, description="Previous turns, oldest first."
    )
    filters: FiltersIn | None = None
    k: int | None = Field(default=None, ge=1, le=50, description="Passages retrieved (default: ASSISTANT_TOP_K).")


class BatchRequest(_In):
    """Several independent questions (evaluation scripts); answers come back in the same order."""

    questions: list[AskRequest] = Field(min_length=1, max_length=MAX_BATCH)


class IngestFolderRequest(_In):
    """Ingest a folder (or file) already on the server, named relative to the corpus root."""

    folder: str = Field(
        default="", max_length=1000, description="Relative to ASSISTANT_CORPUS_DIR; '' or '.' is the root itself."
    )
    prune: bool = Field(default=False, description="Remove bulletins that disappeared from that folder.")


class SourceOut(BaseModel):
    """A bulletin, for opening a citation: ``text[start:end] == quote``."""

    id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    pages: int | None = Field(description="Page count of a paged original (PDF), else null.")
    file_url: str | None = Field(
        description="The original file (this path with ?format=file), relative to the API root; "
        "append '#page=N' (citations[].page) to open a PDF at the quote. Null when the file is not in the corpus root."
    )
    text: str


class ErrorBody(BaseModel):
    type: str = Field(description="Error class, e.g. InvalidQuestionError, Unauthorized, InternalError.")
    message: str
    hint: str | None = None
    id: str | None = Field(default=None, description="Only on 500: quote it when reporting; the log has the details.")
    fields: list[dict[str, str]] | None = Field(default=None, description="Only on request validation errors.")
    failed: list[dict[str, str]] | None = Field(
        default=None, description="Only when no uploaded file was taken: each file with the reason it was refused."
    )


class ErrorEnvelope(BaseModel):
    error: ErrorBody


class HealthOut(BaseModel):
    status: str = Field(description="'ok' (200) or 'unavailable' (503).")
    store: dict[str, Any]
    model: dict[str, Any]


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": text}
    for code, text in (
        (401, "Missing or wrong API key."),
        (422, "Invalid request or question."),
        (503, "Vector store unreachable."),
        (500, "Unexpected failure (error id in the body)."),
    )
}

# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class ApiError(StarletteHTTPException):
    """An HTTP error raised by the API itself, rendered as the error envelope."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.type = type_
        self.message = message
        self.hint = hint
        self.extra = extra or {}


def error_response(
    status: int, type_: str, message: str, hint: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": type_, "message": message, "hint": hint, **{k: v for k, v in extra.items() if v is not None}}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


_SIZE_HINT = (
    f"Au plus {MAX_UPLOAD_FILES} fichiers de ASSISTANT_MAX_FILE_BYTES octets par envoi ; "
    f"{MAX_ASK_BODY} octets pour /ask, {MAX_BATCH_BODY} pour /ask/batch."
)
_HTTP_MESSAGES = {
    404: ("Chemin inconnu.", "La liste des points d'accès est dans /docs."),
    405: ("Méthode non autorisée pour ce chemin.", "La liste des points d'accès est dans /docs."),
    413: ("Requête trop volumineuse.", None),
}


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.type, exc.message, exc.hint, exc.headers, **exc.extra)
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = "HTTP Error"
    type_ = phrase.title().replace(" ", "").replace("-", "")
    message, hint = _HTTP_MESSAGES.get(exc.status_code, (f"Requête refusée : {exc.detail}", None))
    if exc.status_code == 413:
        type_, hint = "PayloadTooLarge", _SIZE_HINT
    return error_response(exc.status_code, type_, message, hint, getattr(exc, "headers", None))


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = [_field_error(e) for e in exc.errors()]
    first = fields[0] if fields else {"loc": "body", "message": "invalide"}
    more = f" (+{len(fields) - 1} autre(s))" if len(fields) > 1 else ""
    return error_response(
        422,
        "InvalidRequest",
        f"Requête invalide : {first['loc']} : {first['message']}{more}",
        "Le schéma attendu est décrit dans /docs.",
        fields=fields[:20],
    )


def _field_error(e: dict[str, Any]) -> dict[str, str]:
    if e.get("type") == "json_invalid":
        return {"loc": "body", "message": f"JSON invalide ({(e.get('ctx') or {}).get('error', 'illisible')})"}
    loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
    return {"loc": loc, "message": str(e.get("msg", ""))}


async def _on_assistant_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AssistantError)
    return error_response(exc.http_status, type(exc).__name__, exc.message, exc.hint)


def _internal_error(request: Request, exc: BaseException) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    where = f"{request.method} {request.url.path}"
    log.error("Erreur interne %s sur %s", error_id, where, exc_info=(type(exc), exc, exc.__traceback__))
    return error_response(
        500,
        "InternalError",
        "Erreur interne du serveur.",
        f"Signalez l'identifiant {error_id} : le détail est dans le journal du serveur.",
        id=error_id,
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    return _internal_error(request, exc)


def _too_large(limit: int) -> JSONResponse:
    return error_response(
        413,
        "PayloadTooLarge",
        f"Requête trop volumineuse (limite {limit} octets pour ce point d'accès).",
        _SIZE_HINT,
    )


class _ContentLengthGuard:
    """Answers 413 with the JSON envelope when Content-Length already exceeds a route's cap.

    The routes' own ``max_body_size`` (Starlette) still counts the bytes of chunked
    bodies, but it replaces any response to an oversized Content-Length by a
    plain-text 413; checking the header first keeps the error format uniform.
    """

    def __init__(self, app: ASGIApp, limits: dict[str, int]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is not None:
            length = Headers(scope=scope).get("content-length", "")
            if length.isdigit() and int(length) > limit:
                await _too_large(limit)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _GuardedRoute(APIRoute):
    """Turns an unexpected exception into the 500 envelope inside the route.

    Starlette's outermost error middleware would also answer 500, but it re-raises
    afterwards (a second traceback in the server log, and an exception in test
    clients); catching here keeps one logged traceback per error id.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (StarletteHTTPException, RequestValidationError, AssistantError):
                raise
            except Exception as exc:
                return _internal_error(request, exc)

        return guarded


# --------------------------------------------------------------------------
# API keys
# --------------------------------------------------------------------------


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class ApiKeys:
    """The configured keys, compared in constant time.

    Keys are compared as SHA-256 digests, so ``hmac.compare_digest`` always sees
    equal lengths, and every configured key is compared (no early exit).
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._digests = [_digest(k) for k in keys if k]

    @property
    def configured(self) -> bool:
        return bool(self._digests)

    def accepts(self, candidates: Sequence[str | None]) -> bool:
        ok = False
        for given in candidates:
            if not given:
                continue
            d = _digest(given)
            for key in self._digests:
                ok |= hmac.compare_digest(d, key)
        return ok


_API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="One of the keys in ASSISTANT_API_KEYS.")
_BEARER = HTTPBearer(auto_error=False, description="Same key, as Authorization: Bearer <key>.")

AuthDependency = Callable[..., Coroutine[Any, Any, None]]


def _auth(keys: ApiKeys, *, write: bool) -> AuthDependency:
    """Dependency: reading needs a key when keys are set; writing always needs one."""

    async def check(
        api_key: Annotated[str | None, Security(_API_KEY)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)] = None,
    ) -> None:
        if write and not keys.configured:
            raise ApiError(
                403,
                "Forbidden",
                "L'indexation par l'API est désactivée : aucune clé d'API n'est configurée.",
                hint="Définissez ASSISTANT_API_KEYS=<clé>[,<clé>...] avant « assistant serve », "
                "puis envoyez l'en-tête X-API-Key.",
            )
        if not keys.configured:
            return
        if not keys.accepts([api_key, bearer.credentials if bearer else None]):
            raise ApiError(
                401,
                "Unauthorized",
                "Clé d'API absente ou invalide.",
                hint="En-tête « X-API-Key: <clé> » ou « Authorization: Bearer <clé> ».",
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


# --------------------------------------------------------------------------
# Uploads and folders: never outside the corpus root
# --------------------------------------------------------------------------


def corpus_folder(root: Path, folder: str) -> Path:
    """``root/folder`` after checking that it stays inside ``root`` (symlinks included)."""
    bad = "\x00" in folder or "\\" in folder
    rel = PurePosixPath(folder)
    if bad or rel.is_absolute() or ".." in rel.parts:
        raise ApiError(
            422,
            "InvalidFolder",
            f"Dossier refusé : {folder[:120]!r}.",
            hint="Un chemin relatif à la racine du corpus (ASSISTANT_CORPUS_DIR), sans « .. » ; '' pour la racine.",
        )
    target = root.joinpath(*rel.parts)
    if not target.exists():
        raise MissingPathError(
            f"Dossier introuvable dans le corpus : {folder or '.'!r}",
            hint="Le chemin est relatif à la racine du corpus (ASSISTANT_CORPUS_DIR).",
        )
    if not target.resolve().is_relative_to(root.resolve()):
        raise ApiError(422, "InvalidFolder", f"Dossier refusé : {folder[:120]!r} sort du corpus.")
    return target


async def _read_uploads(request: Request, max_bytes: int) -> list[tuple[str, bytes]]:
    """The uploaded ``(name, bytes)`` pairs; refuses the whole request only for what concerns the request.

    No file, too many files, or one file over the byte cap (413): the request is
    refused before anything is written. Names and contents are judged file by file
    later (:func:`assistant.uploads.store_uploads`).
    """
    try:
        form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_UPLOAD_FILES)
    except StarletteHTTPException as exc:
        if exc.status_code != 400:
            raise
        raise ApiError(
            422,
            "InvalidUpload",
            f"Formulaire multipart refusé : {exc.detail}",
            hint=f"Au plus {MAX_UPLOAD_FILES} fichiers par envoi, dans le champ « files ».",
        ) from None
    try:
        uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not uploads:
            raise ApiError(
                422,
                "InvalidUpload",
                "Aucun fichier reçu.",
                hint="Envoyez les bulletins dans le champ multipart « files » (" + ", ".join(UPLOAD_SUFFIXES) + ").",
            )
        out: list[tuple[str, bytes]] = []
        for upload in uploads:
            name = upload.filename or ""
            data = await upload.read(max_bytes + 1)
            try:
                check_size(name, len(data), max_bytes)
            except BulletinError:
                raise ApiError(
                    413,
                    "PayloadTooLarge",
                    f"Fichier trop volumineux : {name[:120]!r} (limite {max_bytes} octets).",
                    hint="Découpez-le, ou relevez ASSISTANT_MAX_FILE_BYTES côté serveur.",
                ) from None
            out.append((name, data))
        return out
    finally:
        await form.close()


def _refused_upload(report: IngestReport) -> ApiError:
    """Every uploaded file was refused: a 422 naming the first reason and listing them all."""
    first = report.failed[0]
    more = f" (et {len(report.failed) - 1} autre(s) fichier(s) refusé(s))" if len(report.failed) > 1 else ""
    return ApiError(
        422,
        "BulletinError",
        f"Aucun fichier ajouté : {first.path[:120]!r} : {first.reason}{more}",
        hint="Le détail de chaque fichier est dans « failed ».",
        extra={"failed": [f.model_dump() for f in report.failed]},
    )


# --------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------


def _warm_up(assistant: Assistant) -> None:
    """Load the model, open the store and build the lexical index before the first request.

    A failure (e.g. Chroma server not up yet) is logged, not fatal: the parts are
    lazy, the next request retries, and ``/health`` says what is missing.
    """
    try:
        assistant.embedder.encode_query("échauffement")
        if assistant.auto_ingest:
            assistant.ensure_corpus()
        assistant.lexical.current()
        log.info("Prêt : %s chunks dans %s", assistant.store.count(), assistant.store.location)
    except AssistantError as exc:
        log.warning("Préchauffage incomplet : %s", exc)
    except Exception:
        log.exception("Préchauffage incomplet")


def _ask(assistant: Assistant, item: AskRequest) -> dict[str, Any]:
    filters = item.filters.to_filters() if item.filters else None
    return assistant.ask(item.question, item.history, filters=filters, k=item.k).to_dict()


def create_app(
    assistant: Assistant | None = None,
    settings: Settings | None = None,
    *,
    warm_up: bool = True,
    close_assistant: bool | None = None,
) -> FastAPI:
    """The API around one Assistant.

    ``assistant`` is passed in by tests and by ``serve``; when omitted one is built
    from ``settings`` (or the environment). ``settings`` governs the API itself
    (keys, corpus root for uploads); it defaults to the assistant's. ``warm_up``
    loads everything at startup; the assistant is closed at shutdown when the app
    built it, or when ``close_assistant`` says so.
    """
    owned = assistant is None if close_assistant is None else close_assistant
    settings = settings or (assistant.settings if assistant is not None else Settings.from_env())
    a = assistant if assistant is not None else Assistant(settings=settings)
    keys = ApiKeys(settings.api_keys)
    read_auth = Depends(_auth(keys, write=False))
    write_auth = Depends(_auth(keys, write=True))
    corpus_root = settings.corpus_dir
    upload_body = MAX_UPLOAD_FILES * settings.max_file_bytes + (1 << 20)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_up:
            await run_in_threadpool(_warm_up, a)
        try:
            yield
        finally:
            if owned:
                a.close()

    app = FastAPI(
        title="Assistant bulletins santé",
        version=_version(),
        description=(
            "Réponses chiffrées et sourcées aux questions en français sur les bulletins. "
            f"Questions : {settings.max_question_chars} caractères au plus ; lots de {MAX_BATCH} questions au plus ; "
            f"envois de {MAX_UPLOAD_FILES} fichiers ({', '.join(UPLOAD_SUFFIXES)}) de "
            f"{settings.max_file_bytes} octets et {settings.max_pages} pages au plus ; un fichier refusé est listé "
            "dans « failed » sans empêcher les autres. GET /sources/{id}?format=file sert le fichier d'origine. "
            "Clé d'API : en-tête X-API-Key ou Authorization: Bearer. Voir docs/http-api.md."
        ),
        lifespan=lifespan,
    )
    app.router.route_class = _GuardedRoute
    app.add_middleware(
        _ContentLengthGuard, limits={"/ask": MAX_ASK_BODY, "/ask/batch": MAX_BATCH_BODY, "/ingest": upload_body}
    )
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(AssistantError, _on_assistant_error)
    app.add_exception_handler(Exception, _on_unexpected)
    app.state.assistant = a
    app.state.settings = settings

    @app.post(
        "/ask",
        response_model=Answer,
        dependencies=[read_auth],
        responses=_ERRORS,
        max_body_size=MAX_ASK_BODY,
        tags=["questions"],
        summary="Answer one question (answer contract: docs/answer.schema.json)",
    )
    def ask(body: AskRequest) -> JSONResponse:
        return JSONResponse(_ask(a, body))

    @app.post(
        "/ask/batch",
        response_model=list[Answer],
        dependencies=[read_auth],
        responses=_ERRORS,
        max_body_size=MAX_BATCH_BODY,
        tags=["questions"],
        summary=f"Answer up to {MAX_BATCH} questions, in order (evaluation scripts)",
    )
    def ask_batch(body: BatchRequest) -> JSONResponse:
        for i, item in enumerate(body.questions):  # refuse the whole batch before answering any
            try:
                a.validate_question(item.question)
            except InvalidQuestionError as exc:
                raise InvalidQuestionError(f"questions[{i}] : {exc.message}", hint=exc.hint) from None
        return JSONResponse([_ask(a, item) for item in body.questions])

    @app.post(
        "/ingest",
        response_model=IngestReport,
        dependencies=[write_auth],
        responses={
            **_ERRORS,
            403: {"model": ErrorEnvelope, "description": "No API key configured."},
            413: {"model": ErrorEnvelope, "description": "A file over ASSISTANT_MAX_FILE_BYTES, or body too large."},
            422: {"model": ErrorEnvelope, "description": "Bad request, or every uploaded file refused (see failed)."},
        },
        max_body_size=upload_body,
        tags=["corpus"],
        summary="Add bulletins: multipart upload into the corpus root, or JSON naming a folder in it",
        description=(
            f"Upload: up to {MAX_UPLOAD_FILES} files in the multipart field 'files' "
            f"({', '.join(UPLOAD_SUFFIXES)}), written to the corpus root (ASSISTANT_CORPUS_DIR) and indexed. "
            "Each file is judged on its own: a refused one (name with a folder or '..', hidden, wrong type, "
            "unreadable, too many pages) is listed in 'failed' and writes nothing, the others still go in. "
            "Same bytes again: 'unchanged'; a new version under the same name: 'updated'. "
            "422 only when no file at all was taken."
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                            "required": ["files"],
                        }
                    },
                    "application/json": {"schema": IngestFolderRequest.model_json_schema()},
                },
            }
        },
    )
    async def ingest(request: Request) -> JSONResponse:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "multipart/form-data":
            files = await _read_uploads(request, settings.max_file_bytes)
            report = await run_in_threadpool(a.add_files, files, corpus_dir=corpus_root)
            if report.failed and not (report.added or report.updated or report.unchanged):
                raise _refused_upload(report)
        elif ctype in ("application/json", ""):
            raw = await request.body()
            try:
                body = IngestFolderRequest.model_validate_json(raw or b"{}")
            except ValidationError as exc:
                raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None
            target = await run_in_threadpool(corpus_folder, corpus_root, body.folder)
            report = await run_in_threadpool(a.ingest, [target], prune=body.prune)
        else:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"Type de contenu non pris en charge : {ctype!r}.",
                hint='multipart/form-data (champ « files ») ou application/json ({"folder": "...", "prune": false}).',
            )
        return JSONResponse(report.model_dump(mode="json"))

    @app.get("/stats", response_model=StoreStats, dependencies=[read_auth], responses=_ERRORS, tags=["corpus"])
    def stats() -> JSONResponse:
        return JSONResponse(a.stats().model_dump(mode="json"))

    @app.get(
        "/sources/{bulletin_id:path}",
        response_model=SourceOut,
        dependencies=[read_auth],
        responses={
            **_ERRORS,
            200: {
                "description": "JSON by default; with ?format=file the original bytes (application/pdf, …).",
                "content": {media: {} for media in sorted(set(MEDIA_TYPES.values()))},
            },
            404: {"model": ErrorEnvelope, "description": "Unknown bulletin id, or original file not in the corpus."},
        },
        tags=["corpus"],
        summary="A bulletin's metadata and text (JSON), or with ?format=file its original file",
    )
    def source(
        request: Request,
        bulletin_id: str,
        format: Annotated[
            Literal["json", "file"],
            Query(description="'json' (default): metadata and text; 'file': the original file as ingested."),
        ] = "json",
    ) -> Response:
        b = a.bulletin(bulletin_id) if 0 < len(bulletin_id) <= 1000 else None
        if b is None:
            raise ApiError(
                404,
                "NotFound",
                f"Bulletin inconnu : {bulletin_id[:200]!r}.",
                hint="L'identifiant est citations[].source d'une réponse ; GET /stats liste les bulletins.",
            )
        original = original_file(b, corpus_root)
        if format == "file":
            if original is None:
                raise ApiError(
                    404,
                    "NotFound",
                    f"Fichier d'origine indisponible : {bulletin_id[:200]!r}.",
                    hint="Seuls les fichiers présents sous la racine du corpus (ASSISTANT_CORPUS_DIR) sont servis ; "
                    "le texte reste disponible sans ?format=file.",
                )
            return _file_response(original)
        file_url = None
        if original is not None:
            file_url = f"{request.scope.get('root_path', '')}/sources/{quote(b.id, safe='/')}?format=file"
        out = SourceOut(
            id=b.id,
            title=b.title,
            date=b.date.isoformat() if b.date else None,
            source=b.source,
            url=b.url,
            pages=b.pages or None,
            file_url=file_url,
            text=b.text,
        )
        return JSONResponse(out.model_dump(mode="json"))

    @app.get(
        "/health",
        response_model=HealthOut,
        responses={503: {"model": HealthOut, "description": "Store unreachable or model not loaded."}},
        tags=["service"],
        summary="Store reachable and model loaded (no key needed)",
    )
    def health() -> JSONResponse:
        model_loaded = a.embedder.loaded
        store: dict[str, Any] = {"kind": "http" if a.settings.chroma_url else "embedded", "reachable": False}
        try:
            a.store.metadata()  # reachable, and follows a collection re-created by another process
            store["chunks"] = a.store.count()
            store["reachable"] = True
        except AssistantError as exc:
            store["error"] = exc.message
        except Exception as exc:
            store["error"] = type(exc).__name__
            log.warning("health: magasin injoignable (%s: %s)", type(exc).__name__, exc)
        ok = store["reachable"] and model_loaded
        body = {
            "status": "ok" if ok else "unavailable",
            "store": store,
            "model": {"loaded": model_loaded, "name": a.embedder.model_name},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    return app


def _file_response(path: Path) -> FileResponse:
    """The original bytes, shown inline; never sniffed, and anything but a PDF sandboxed.

    A bulletin is data: an HTML bulletin opened from the API must not run scripts on
    its origin. PDFs are left unsandboxed because browsers refuse to display them in
    a sandbox.
    """
    suffix = path.suffix.lower()
    headers = {"X-Content-Type-Options": "nosniff"}
    if suffix != ".pdf":
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
        filename=path.name,
        content_disposition_type="inline",
        headers=headers,
    )


def _version() -> str:
    from . import __version__

    return __version__


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    settings: Settings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    log_level: str = "info",
    auto_ingest: bool = True,
    access_log: bool = True,
) -> None:
    """Run the API with uvicorn until interrupted (``assistant serve``)."""
    import uvicorn

    settings = settings or Settings.from_env()
    logging.getLogger("assistant").setLevel(log_level.upper())
    if not settings.api_keys and not _is_loopback(host):
        log.warning(
            "API exposée sur %s sans clé : /ask est ouvert à tous, /ingest est refusé. Définissez ASSISTANT_API_KEYS.",
            host,
        )
    assistant = Assistant(settings=settings, auto_ingest=auto_ingest)
    # Closed by the app's shutdown: uvicorn re-raises SIGTERM/SIGINT once shut down, so code after run() may not run.
    uvicorn.run(
        create_app(assistant, settings, close_assistant=True),
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=access_log,
        server_header=False,
        timeout_graceful_shutdown=10,
    )


__all__ = ["MAX_BATCH", "MAX_UPLOAD_FILES", "ApiKeys", "create_app", "original_file", "serve"]
