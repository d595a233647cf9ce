"""Reading a submission request: a JSON body, or multipart with `exercise`, `answers` (a JSON
string) and `files` parts. Every limit is enforced while the body streams in: the whole
request (`max_request_bytes`), the JSON (`max_json_bytes`) and each file (the rubric's
`files[].max_bytes`). On any error the staged files are discarded, so nothing is kept."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

import python_multipart
from fastapi import HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

import graders
from graders.answers import answer_model
from graders.files import match_upload
from graders.rubric import FileSpec, Rubric

from app.settings import Settings
from app.storage import BlobStore, BlobWriter, TooLarge

FILE_FIELD = "files"


class SubmissionIn(BaseModel):
    """A submission as JSON (the multipart form carries the same two fields, plus files)."""

    model_config = ConfigDict(extra="forbid")

    exercise: str = Field(examples=["ex2"])
    answers: dict[str, Any] = Field(default_factory=dict, examples=[{"alpha": "1"}])


@dataclass
class StagedFile:
    filename: str
    writer: BlobWriter
    spec: FileSpec | None = None


@dataclass
class IncomingSubmission:
    exercise: str
    answers: dict[str, Any]
    files: list[StagedFile] = field(default_factory=list)

    def digest(self) -> str:
        """What the request asks for, to tell a retry (same Idempotency-Key) from a new request."""
        doc = {
            "exercise": self.exercise,
            "answers": self.answers,
            "files": sorted((f.spec.name if f.spec else f.filename, f.writer.sha256) for f in self.files),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def discard(self) -> None:
        for staged in self.files:
            staged.writer.discard()


def error(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def describe(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for e in exc.errors(include_url=False):
        loc = ".".join(str(x) for x in (prefix, *e["loc"]) if x != "")
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)


def known_rubric(exercise: str) -> Rubric:
    try:
        return graders.rubric(exercise)
    except graders.UnknownExercise:
        raise error(422, f"unknown exercise {exercise!r}; known: {', '.join(graders.exercise_ids())}") from None


def validate_answers(rubric: Rubric, answers: dict[str, Any]) -> None:
    try:
        answer_model(rubric).model_validate(answers)
    except ValidationError as exc:
        raise error(422, "invalid answers: " + describe(exc, "answers")) from None


async def _limited(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The request body, refused with 413 as soon as it grows past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise error(413, f"request body is {declared} bytes; the limit is {limit}")
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise error(413, f"request body is larger than the limit of {limit} bytes")
        yield chunk


def _parse_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(400, f"{what} is not valid JSON: {exc}") from None


def _submission_in(doc: Any) -> SubmissionIn:
    try:
        return SubmissionIn.model_validate(doc)
    except ValidationError as exc:
        raise error(422, "invalid submission: " + describe(exc)) from None


async def read_submission(request: Request, settings: Settings, store: BlobStore) -> IncomingSubmission:
    """Parse and validate a submission request; 4xx with a message on anything wrong."""
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    if content_type == b"application/json":
        raw = bytearray()
        async for chunk in _limited(request, settings.max_json_bytes):
            raw.extend(chunk)
        body = _submission_in(_parse_json(bytes(raw), "the request body"))
        rubric = known_rubric(body.exercise)
        validate_answers(rubric, body.answers)
        return IncomingSubmission(body.exercise, body.answers)
    if content_type == b"multipart/form-data":
        incoming = await _read_multipart(request, settings, store)
        try:
            rubric = known_rubric(incoming.exercise)
            validate_answers(rubric, incoming.answers)
            _check_files(rubric, incoming.files)
        except BaseException:
            incoming.discard()
            raise
        return incoming
    raise error(415, "Content-Type must be application/json or multipart/form-data")


def _not_accepted(rubric: Rubric, filename: str) -> HTTPException:
    accepted = [name for spec in rubric.files for name in spec.accept]
    hint = f"accepted: {', '.join(accepted)}" if accepted else f"{rubric.exercise} takes no files"
    return error(422, f"file {filename!r} is not accepted for {rubric.exercise}; {hint}")


def _check_files(rubric: Rubric, files: list[StagedFile]) -> None:
    seen: dict[str, str] = {}
    for staged in files:
        spec = match_upload(rubric, staged.filename)
        if spec is None:
            raise _not_accepted(rubric, staged.filename)
        if staged.writer.size > spec.max_bytes:
            raise error(413, f"file {staged.filename!r} is {staged.writer.size} bytes; the limit is {spec.max_bytes}")
        if spec.name in seen:
            raise error(422, f"files {seen[spec.name]!r} and {staged.filename!r} are both the {spec.name!r} file")
        seen[spec.name] = staged.filename
        staged.spec = spec


def _size_limit(filename: str, exercise: str | None) -> int:
    """The size limit of an upload by that name: its exercise's or, if the `exercise` field
    has not arrived yet, the largest any exercise allows. 422 if nothing accepts the name."""
    if exercise is not None:
        rubric = known_rubric(exercise)
        spec = match_upload(rubric, filename)
        if spec is None:
            raise _not_accepted(rubric, filename)
        return spec.max_bytes
    limits = [s.max_bytes for ex in graders.exercise_ids() if (s := match_upload(graders.rubric(ex), filename))]
    if not limits:
        raise error(422, f"file {filename!r} is not accepted by any exercise")
    return max(limits)


class _MultipartReader:
    """Callbacks for python-multipart's streaming parser: small fields are collected in memory
    (bounded), file parts stream into the blob store's temp files (bounded per file)."""

    MAX_FIELDS = 10
    MAX_FILES = 10

    def __init__(self, settings: Settings, store: BlobStore, charset: str) -> None:
        self.settings = settings
        self.store = store
        self.charset = charset
        self.fields: dict[str, str] = {}
        self.files: list[StagedFile] = []
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._data = bytearray()
        self._writer: BlobWriter | None = None
        self._filename = ""
        self.complete = False

    def on_end(self) -> None:
        self.complete = True

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._data = bytearray()
        self._writer = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise error(400, "a multipart part has no name")
        self._name = options[b"name"].decode(self.charset, "replace")
        if b"filename" not in options:
            if self._name not in ("exercise", "answers"):
                raise error(422, f"unknown form field {self._name!r}; expected exercise, answers and files")
            if self._name in self.fields or len(self.fields) >= self.MAX_FIELDS:
                raise error(422, f"form field {self._name!r} appears twice")
            return
        if self._name != FILE_FIELD:
            raise error(422, f"file part {self._name!r}: files must be sent as 'files' parts")
        if len(self.files) >= self.MAX_FILES:
            raise error(422, f"more than {self.MAX_FILES} files")
        self._filename = options[b"filename"].decode(self.charset, "replace")
        self._writer = self.store.writer(_size_limit(self._filename, self.fields.get("exercise")))
        self.files.append(StagedFile(self._filename, self._writer))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._writer is not None:
            try:
                self._writer.write(chunk)
            except TooLarge as exc:
                raise error(413, f"file {self._filename!r} is larger than the limit of {exc.limit} bytes") from None
            return
        self._data.extend(chunk)
        if len(self._data) > self.settings.max_json_bytes:
            raise error(413, f"form field {self._name!r} is larger than {self.settings.max_json_bytes} bytes")

    def on_part_end(self) -> None:
        if self._writer is None:
            try:
                self.fields[self._name] = self._data.decode(self.charset)
            except UnicodeDecodeError:
                raise error(400, f"form field {self._name!r} is not valid {self.charset}") from None

    def discard(self) -> None:
        for staged in self.files:
            staged.writer.discard()


async def _read_multipart(request: Request, settings: Settings, store: BlobStore) -> IncomingSubmission:
    _, params = parse_options_header(request.headers["content-type"])
    boundary = params.get(b"boundary")
    if not boundary:
        raise error(400, "multipart/form-data without a boundary")
    reader = _MultipartReader(settings, store, "utf-8")  # field values and filenames are UTF-8
    callbacks = {
        name: getattr(reader, name)
        for name in (
            "on_part_begin", "on_part_data", "on_part_end", "on_header_field",
            "on_header_value", "on_header_end", "on_headers_finished", "on_end",
        )
    }
    parser = python_multipart.MultipartParser(boundary, callbacks)
    try:
        async for chunk in _limited(request, settings.max_request_bytes):
            parser.write(chunk)
        parser.finalize()
        if not reader.complete:
            raise error(400, "malformed multipart body: it ends before its closing boundary")
        if "exercise" not in reader.fields:
            raise error(422, "form field 'exercise' is missing")
        answers = _parse_json(reader.fields["answers"], "form field 'answers'") if "answers" in reader.fields else {}
        body = _submission_in({"exercise": reader.fields["exercise"], "answers": answers})
    except FormParserError as exc:
        reader.discard()
        raise error(400, f"malformed multipart body: {exc}") from None
    except BaseException:
        reader.discard()
        raise
    return IncomingSubmission(body.exercise, body.answers, reader.files)
