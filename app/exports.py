"""Export formats: a gradebook CSV that Moodle's "Import grades: CSV file" accepts, and one
submission in Gradescope's results.json shape.

Moodle's importer identifies each row by a column the TA maps to a user field (we give
"Email address" and "ID number", the headers Moodle's own export uses), and maps every
other column to a grade item. A blank cell means "no grade". Numbers use a decimal point."""
from __future__ import annotations

import csv
import io
from typing import Iterable, Sequence

from app.gradebook import EffectiveItem
from app.policies import CountedGrade

# Spreadsheet programs run cells that start with these as formulas.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number_cell(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def moodle_csv(
    rows: Iterable[tuple[str, str | None, str | None, dict[str, CountedGrade | None]]],
    exercises: Sequence[str],
) -> str:
    """rows: (full name, email, id number, counted grade per exercise)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Email address", "ID number", "Full name", *exercises, "Total"])
    for name, email, idnumber, grades in rows:
        scores = [grades.get(ex).score if grades.get(ex) else None for ex in exercises]
        total = sum(s for s in scores if s is not None)
        writer.writerow([
            _text_cell(email), _text_cell(idnumber), _text_cell(name),
            *(_number_cell(s) for s in scores),
            _number_cell(total),
        ])
    return out.getvalue()


def gradescope_results(
    score: float,
    items: Sequence[EffectiveItem],
    descriptions: dict[str, str],
    late: CountedGrade | None = None,
) -> dict:
    """Gradescope's results.json: the total, and one test per rubric item. A TA's comment is
    part of the item's output; the automatic score never leaks into the student view."""
    tests = []
    for it in items:
        output = it.feedback
        if it.comment:
            output = f"{output}\n\nTA: {it.comment}" if output else f"TA: {it.comment}"
        tests.append({
            "name": f"{it.id}: {descriptions[it.id]}" if descriptions.get(it.id) else it.id,
            "number": it.id,
            "score": it.score,
            "max_score": it.max_score,
            "output": output,
            "visibility": "visible",
        })
    result = {
        "score": round(score, 4),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if late is not None and late.days_late:
        result["output"] = (
            f"Submitted {late.days_late} day(s) after the deadline: the course counts "
            f"{late.score:g} of {late.max_score:g} points after a {late.penalty:g}-point penalty."
        )
    return result
