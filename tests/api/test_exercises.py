"""The public catalogue: exercises, parts, points and the answer schemas students validate against."""
from __future__ import annotations

import graders
from graders.answers import answer_model


def test_catalogue_lists_every_exercise_with_points_and_schema(api):
    r = api.get("/api/v1/exercises")  # no token needed
    assert r.status_code == 200
    catalogue = {e["id"]: e for e in r.json()}
    assert list(catalogue) == list(graders.exercise_ids())
    assert sum(e["max_points"] for e in catalogue.values()) == 100
    ex1 = catalogue["ex1"]
    assert [p["id"] for p in ex1["parts"]] == ["ex1a", "ex1b"]
    assert ex1["parts"][0]["max_points"] == 15
    assert ex1["parts"][0]["items"][0] == {**ex1["parts"][0]["items"][0], "id": "ex1a.tau", "type": "expression", "points": 8}
    schema = ex1["answer_schema"]
    assert schema == answer_model(graders.rubric("ex1")).model_json_schema()
    assert schema["additionalProperties"] is False and "tau" in schema["properties"]
    assert {f["name"] for f in catalogue["ex4"]["files"]} == {"solution", "cosine_cnn", "rot_autoencoder"}
    assert catalogue["ex4"]["answer_schema"]["properties"] == {}


def test_openapi_documents_both_submission_bodies(api):
    spec = api.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/submissions"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    assert api.get("/docs").status_code == 200
