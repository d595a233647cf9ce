"""Liveness for load balancers and docker-compose."""
from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from app.deps import DbSession

router = APIRouter(tags=["health"])


@router.get("/health", summary="The app answers and the database is reachable")
def health(db: DbSession) -> dict[str, str]:
    db.execute(text("SELECT 1"))
    return {"status": "ok"}
