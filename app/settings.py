"""All configuration in one place: environment variables with the prefix `AUTOGRADER_`."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOGRADER_", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/autograder.db",
        description="SQLAlchemy URL; e.g. postgresql+psycopg://user@host/db for PostgreSQL",
    )
    redis_url: str | None = Field(
        None, description="Redis broker; when set, grading runs in separate `autograder worker` processes"
    )
    data_dir: Path = Field(Path("var"), description="uploaded files (content-addressed) and temp files")

    # Limits on what a client may send.
    max_request_bytes: int = Field(40 * 1024 * 1024, description="a whole submission request")
    max_json_bytes: int = Field(512 * 1024, description="a JSON body, or the `answers` field of a multipart body")

    # Queue and workers.
    worker_threads: int = Field(2, ge=1, description="grading threads per worker process")
    worker_poll_ms: int = Field(250, ge=10, description="how often idle worker threads look for work")
    in_process_worker: bool = Field(True, description="run workers inside the API process when no Redis is set")
    warm_up: bool = Field(True, description="build every grader once when a worker starts")
    lease_seconds: float = Field(30.0, gt=0, description="a running grade's lease; renewed while it runs")
    grade_time_limit_seconds: float = Field(900.0, gt=0)
    requeue_queued_after_seconds: float = Field(
        300.0, gt=0, description="enqueue a submission again if it stays `queued` this long"
    )
    redis_heartbeat_timeout_ms: int = Field(
        60_000, description="a worker silent this long is dead; its unacked messages are requeued"
    )
    redis_maintenance_chance: int = Field(
        1000, description="broker calls (per million) that look for dead workers' messages"
    )
    redis_namespace: str = "autograder"

    # Course policies (deadlines, attempts, rate limits) and the LMS. Both files are read again
    # when they change, so they are looked up on use (`current_settings()`), not cached.
    policies_file: Path | None = Field(None, description="policies YAML; default app/policies.yaml")
    lti_config: Path | None = Field(None, description="PyLTI1p3 tool config JSON; LTI is off when unset")

    # Long-polling `GET /submissions/{id}?wait=S`.
    max_wait_seconds: float = 30.0

    # Test-only: workers sleep this long before grading, so an end-to-end test can kill one
    # mid-grade. Set only in the server's environment; nothing a client sends can change it.
    debug_grade_delay_seconds: float = 0.0

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def ta_token_file(self) -> Path:
        return self.data_dir / "ta-token"

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def current_settings() -> Settings:
    """The environment as it is now, for the few values that may change while the service runs."""
    return Settings()
