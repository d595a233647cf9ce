"""`create_app(settings) -> FastAPI`: the HTTP API of contract §4 under `/api/v1`."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import APIRouter, FastAPI

import graders

from app import errors
from app.grading import GraderLookup
from app.routes import exercises, grades, health, roster, submissions
from app.routes import exports, lti, pages, review, ta, ta_pages
from app.services import Services
from app.settings import Settings, get_settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, grader_for: GraderLookup = graders.grader) -> FastAPI:
    """The app. The database must be migrated (`autograder serve` does it). In-process workers
    start with the app's lifespan unless `settings.redis_url` is set."""
    settings = settings or get_settings()
    services = Services.build(settings, grader_for)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.waiters.bind(asyncio.get_running_loop())
        await asyncio.to_thread(services.start)
        try:
            yield
        finally:
            await asyncio.to_thread(services.close)

    app = FastAPI(
        title="Sheet 8 autograder",
        version="1.0",
        description="Submit answers to Exercise Sheet 8 and get points and feedback in seconds.",
        lifespan=lifespan,
    )
    app.state.services = services
    errors.install(app)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(exercises.router)
    api.include_router(submissions.router)
    api.include_router(grades.router)
    api.include_router(roster.router)
    api.include_router(health.router)
    api.include_router(ta.router)
    api.include_router(review.router)
    api.include_router(exports.router)

    app.include_router(api)
    app.include_router(pages.router)
    app.include_router(ta_pages.router)
    app.include_router(lti.router)
    return app
