"""What a submission and a student are worth once TA overrides and course policies apply.

The automatic per-item results (`submission_items`) stay as the graders wrote them; a TA's
override replaces an item's points on read. The grade that counts per exercise follows the
exercise's policy (best or last, late penalty). Every report, export and passback reads
grades through here, so they agree."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Submission, SubmissionItem, User
from app.models.override import ItemOverride
from app.policies import Attempt, CountedGrade, as_utc, counted_grade, policy_for

if TYPE_CHECKING:
    from app.schemas import SubmissionOut, SubmissionSummary


@dataclass(frozen=True)
class EffectiveItem:
    id: str
    score: float  # what counts: the override if there is one, else the automatic score
    max_score: float
    auto_score: float
    feedback: str
    needs_review: bool  # flagged by the grader and not yet resolved by a TA
    flagged: bool  # flagged by the grader at all
    override_score: float | None
    comment: str | None  # the TA's comment, shown to the student

    @property
    def overridden(self) -> bool:
        return self.override_score is not None


def effective_item(item, override: ItemOverride | None) -> EffectiveItem:
    resolved = override is not None and (
        not override.is_accept or override.accepted_score == item.score
    )
    score = item.score
    if override is not None and not override.is_accept:
        score = min(max(override.score, 0.0), item.max_score)  # the rubric may have shrunk
    return EffectiveItem(
        id=item.item_id,
        score=score,
        max_score=item.max_score,
        auto_score=item.score,
        feedback=item.feedback,
        needs_review=bool(item.needs_review) and not resolved,
        flagged=bool(item.needs_review),
        override_score=None if override is None or override.is_accept else override.score,
        comment=override.comment if override is not None and (resolved or not override.is_accept) else None,
    )


def overrides_for(db: Session, submission_ids: Iterable[str]) -> dict[str, dict[str, ItemOverride]]:
    ids = list(set(submission_ids))
    found: dict[str, dict[str, ItemOverride]] = defaultdict(dict)
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for o in db.scalars(select(ItemOverride).where(ItemOverride.submission_id.in_(chunk))):
            found[o.submission_id][o.item_id] = o
    return found


def effective_items(submission: Submission, overrides: dict[str, ItemOverride]) -> list[EffectiveItem]:
    return [effective_item(i, overrides.get(i.item_id)) for i in submission.items]


def effective_score(submission: Submission, overrides: dict[str, ItemOverride]) -> float | None:
    if submission.status != "graded" or submission.score is None:
        return None
    if not overrides:
        return submission.score
    return round(sum(i.score for i in effective_items(submission, overrides)), 6)


def with_overrides(out: "SubmissionOut", db: Session, staff: bool) -> "SubmissionOut":
    """The API's view of a submission with TA overrides applied: the effective score and the
    TA's comment per item; TAs also see the automatic score an override replaced."""
    overrides = overrides_for(db, [out.id]).get(out.id, {})
    if not overrides or out.status != "graded":
        return out
    by_id = {i.id: i for i in out.items}
    for o in overrides.values():
        item = by_id.get(o.item_id)
        if item is None:
            continue
        stored = SubmissionItem(item_id=item.id, score=item.score, max_score=item.max_score,
                                feedback=item.feedback, needs_review=item.needs_review)
        eff = effective_item(stored, o)
        item.score, item.needs_review, item.comment = eff.score, eff.needs_review, eff.comment
        if staff and eff.overridden:
            item.auto_score = eff.auto_score
    out.score = round(sum(i.score for i in out.items), 6)
    return out


def with_override_scores(db: Session, summaries: Sequence["SubmissionSummary"]) -> None:
    """Set the effective score on list entries whose submission a TA overrode."""
    overrides = overrides_for(db, [s.id for s in summaries if s.score is not None])
    if not overrides:
        return
    subs = {s.id: s for s in db.scalars(
        select(Submission).options(selectinload(Submission.items)).where(Submission.id.in_(list(overrides))))}
    for summary in summaries:
        if summary.id in overrides and summary.id in subs:
            summary.score = effective_score(subs[summary.id], overrides[summary.id])


def counted_for(
    exercise: str, submissions: Sequence[Submission], overrides: dict[str, dict[str, ItemOverride]]
) -> CountedGrade | None:
    """The grade that counts among one student's submissions to one exercise."""
    attempts = [
        Attempt(s.id, as_utc(s.created_at), effective_score(s, overrides.get(s.id, {})), s.max_score)
        for s in submissions
        if s.status == "graded" and s.score is not None and s.exercise == exercise
    ]
    return counted_grade(policy_for(exercise), attempts)


def graded_submissions(db: Session, *, user_id: int | None = None, exercise: str | None = None) -> list[Submission]:
    query = (
        select(Submission)
        .options(selectinload(Submission.items))
        .where(Submission.status == "graded")
        .order_by(Submission.created_at)
    )
    if user_id is not None:
        query = query.where(Submission.user_id == user_id)
    if exercise is not None:
        query = query.where(Submission.exercise == exercise)
    return list(db.scalars(query))


def student_grades(db: Session, user_id: int, exercises: Sequence[str]) -> dict[str, CountedGrade | None]:
    subs = graded_submissions(db, user_id=user_id)
    overrides = overrides_for(db, [s.id for s in subs])
    return {ex: counted_for(ex, [s for s in subs if s.exercise == ex], overrides) for ex in exercises}


def gradebook(db: Session, exercises: Sequence[str]) -> list[tuple[User, dict[str, CountedGrade | None]]]:
    """Every student (on the roster or with a submission) and their counted grade per exercise."""
    students = list(db.scalars(select(User).where(User.role == "student").order_by(User.name, User.id)))
    subs = graded_submissions(db)
    overrides = overrides_for(db, [s.id for s in subs])
    by_user: dict[int, list[Submission]] = defaultdict(list)
    for s in subs:
        by_user[s.user_id].append(s)
    return [
        (u, {ex: counted_for(ex, [s for s in by_user[u.id] if s.exercise == ex], overrides) for ex in exercises})
        for u in students
    ]
