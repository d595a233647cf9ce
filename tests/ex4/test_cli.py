"""`autograder grade FOLDER` on an ex4 sample: files matched by name, graded in the sandbox."""
from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from app.cli import app
from graders.ex4.grader import FOLDER


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root (every job switches to its own uid)")
def test_the_cli_grades_a_sample_folder():
    run = CliRunner().invoke(app, ["grade", str(FOLDER / "samples" / "wrong-shapes")])
    assert run.exit_code == 0, run.output
    result = json.loads(run.stdout)
    assert result["exercise"] == "ex4" and result["score"] == 0 and result["max_score"] == 35
    items = {i["id"]: i for i in result["items"]}
    assert "'class_weights' has shape (10, 16), expected (10, 32)" in items["ex4c.accuracy"]["feedback"]
    assert items["ex4a.cosine_logits"]["feedback"] == "Not submitted: upload solution.py."
