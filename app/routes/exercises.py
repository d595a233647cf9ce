"""The catalogue (public) and the starter kits."""
from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, HTTPException, Response
from fastapi.concurrency import run_in_threadpool

import graders
from graders.answers import answer_model

from app.deps import CurrentUser, ServicesDep
from app.schemas import ExerciseOut, FileOut, ItemOut, PartOut

router = APIRouter(prefix="/exercises", tags=["exercises"])


@lru_cache(maxsize=1)
def catalogue() -> tuple[ExerciseOut, ...]:
    out = []
    for exercise in graders.exercise_ids():
        rubric = graders.rubric(exercise)
        out.append(ExerciseOut(
            id=exercise,
            title=rubric.title,
            max_points=rubric.max_points,
            parts=[
                PartOut(
                    id=part.id, title=part.title, max_points=sum(i.points for i in part.items),
                    items=[ItemOut(id=i.id, field=i.field, type=i.type, points=i.points, description=i.description)
                           for i in part.items],
                )
                for part in rubric.parts
            ],
            files=[FileOut(name=f.name, accept=f.accept, max_bytes=f.max_bytes, description=f.description)
                   for f in rubric.files],
            answer_schema=answer_model(rubric).model_json_schema(),
        ))
    return tuple(out)


@router.get("", response_model=list[ExerciseOut], summary="Exercises, parts, points and answer schemas")
def list_exercises() -> list[ExerciseOut]:
    return list(catalogue())


@router.get(
    "/{exercise}/starter",
    summary="The exercise's starter kit (a zip)",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "the starter kit"}},
)
async def starter_kit(exercise: str, services: ServicesDep, _user: CurrentUser) -> Response:
    try:
        grader = services.grader_for(exercise)
    except graders.UnknownExercise:
        raise HTTPException(404, f"no exercise {exercise!r}") from None
    kit = await run_in_threadpool(grader.starter_kit)
    if kit is None:
        raise HTTPException(404, f"{exercise} has no starter kit")
    return Response(
        kit,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{exercise}-starter.zip"'},
    )
