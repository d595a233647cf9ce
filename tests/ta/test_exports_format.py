"""The export formats on their own: Moodle's CSV import and Gradescope's results.json."""
import csv
import io

from app.exports import gradescope_results, moodle_csv
from app.gradebook import EffectiveItem
from app.policies import CountedGrade


def grade(score: float, max_score: float = 30, days_late: int = 0, penalty: float = 0) -> CountedGrade:
    return CountedGrade("s", score + penalty, penalty, days_late, score, max_score)


def test_moodle_csv_has_identifier_columns_one_column_per_exercise_and_total():
    text = moodle_csv(
        [("Ada Lovelace", "ada@uni.example", "1001", {"ex1": grade(27.5), "ex2": None}),
         ("=cmd|' /C calc'!A0", "eve@uni.example", None, {"ex1": grade(10.25), "ex2": grade(20, 20)})],
        ["ex1", "ex2"],
    )
    assert text.endswith("\r\n") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Email address", "ID number", "Full name", "ex1", "ex2", "Total"]
    assert rows[1] == ["ada@uni.example", "1001", "Ada Lovelace", "27.5", "", "27.5"]
    # a formula-looking name is neutralised; numbers use a decimal point
    assert rows[2][2].startswith("'=") and rows[2][3:] == ["10.25", "20", "30.25"]


def item(i: str, score: float, mx: float, comment: str | None = None, auto: float | None = None) -> EffectiveItem:
    return EffectiveItem(i, score, mx, auto if auto is not None else score, "fb " + i, False, False,
                         score if comment else None, comment)


def test_gradescope_shape():
    res = gradescope_results(
        14, [item("ex2a.alpha", 4, 4), item("ex2a.objective", 10, 12, "step 3 is fine", auto=6)],
        {"ex2a.alpha": "the optimal α"},
    )
    assert set(res) >= {"score", "tests", "visibility"} and res["score"] == 14
    t0, t1 = res["tests"]
    assert t0 == {"name": "ex2a.alpha: the optimal α", "number": "ex2a.alpha", "score": 4,
                  "max_score": 4, "output": "fb ex2a.alpha", "visibility": "visible"}
    assert t1["score"] == 10 and "TA: step 3 is fine" in t1["output"] and "6" not in t1["output"]
    assert "output" not in res


def test_gradescope_mentions_late_penalty():
    res = gradescope_results(20, [], {}, late=grade(18, 20, days_late=1, penalty=2))
    assert "1 day(s) after the deadline" in res["output"] and "18 of 20" in res["output"]
