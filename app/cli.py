"""`autograder serve | grade | users add` (contract §5)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from pydantic import ValidationError

app = typer.Typer(help="Exercise Sheet 8 autograder.", no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """Exercise Sheet 8 autograder: serve the API, grade offline, manage users."""


def _load_submission(path: Path) -> tuple[dict, dict[str, Path]]:
    """A submission.json, or a folder holding it beside the uploaded files."""
    from graders import rubric
    from graders.files import match_upload

    folder = path if path.is_dir() else path.parent
    doc_path = path / "submission.json" if path.is_dir() else path
    doc = json.loads(doc_path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "exercise" not in doc:
        raise typer.BadParameter(f"{doc_path}: expected an object with 'exercise' and 'answers'")
    files: dict[str, Path] = {}
    if path.is_dir() or doc.get("files"):
        spec = rubric(doc["exercise"])
        for candidate in sorted(folder.iterdir()):
            if candidate.is_file() and candidate.name != "submission.json":
                match = match_upload(spec, candidate.name)
                if match is not None:
                    files[match.name] = candidate
    return doc, files


@app.command()
def grade(path: Path = typer.Argument(..., exists=True, help="submission.json or a folder holding it")) -> None:
    """Grade one submission offline and print the result (contract §3a) as JSON."""
    import graders

    doc, files = _load_submission(path)
    try:
        result = graders.grader(doc["exercise"]).grade(doc.get("answers") or {}, files)
    except graders.UnknownExercise:
        typer.echo(f"unknown exercise {doc['exercise']!r}; known: {', '.join(graders.exercise_ids())}", err=True)
        raise typer.Exit(2)
    except ValidationError as exc:
        typer.echo(f"invalid answers: {exc}", err=True)
        raise typer.Exit(2)
    sys.stdout.write(result.model_dump_json(indent=1) + "\n")


def main() -> None:
    app()
