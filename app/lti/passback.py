"""Grade passback through LTI Assignment and Grade Services: one score POST per line item."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import requests
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config import ToolConfJsonFile

from app.lti.config import find_registration

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


HTTP_TIMEOUT_SECONDS = 10.0


class TimeoutSession(requests.Session):
    """PyLTI1p3 calls `requests` without a timeout; a platform that hangs must not hang us."""

    def request(self, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", HTTP_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


@dataclass(frozen=True)
class ScoreTarget:
    """Where a student's grade for one exercise goes: the platform, its line item, the user."""

    iss: str
    client_id: str
    lineitem: str
    scopes: tuple[str, ...]
    user_sub: str


def post_score(
    conf: ToolConfJsonFile,
    target: ScoreTarget,
    score_given: float,
    score_maximum: float,
    comment: str | None = None,
) -> None:
    """POST an `application/vnd.ims.lis.v1.score+json` score to the line item's /scores.
    Raises pylti1p3's LtiException when the platform refuses."""
    registration = find_registration(conf, target.iss, target.client_id)
    service = AssignmentsGradesService(
        ServiceConnector(registration, TimeoutSession()),
        {"scope": list(target.scopes), "lineitem": target.lineitem},
    )
    grade = (
        Grade()
        .set_score_given(round(score_given, 4))
        .set_score_maximum(score_maximum)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(target.user_sub)
        # platforms keep the newest score by timestamp: millisecond precision, UTC
        .set_timestamp(datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    )
    if comment:
        grade.set_comment(comment)
    service.put_grade(grade)
