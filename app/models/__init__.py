"""ORM models, one module per concept. Import every model module here so that Alembic's
autogenerate and the relationships see the whole schema."""
from app.models.base import Base
from app.models.blob import Blob
from app.models.submission import Submission, SubmissionFile, SubmissionItem
from app.models.user import Role, User
# TA work and the LMS (overrides, audit log, regrades, LTI, page sessions)
from app.models.audit import AuditEntry
from app.models.lti import LtiGradeTarget, LtiIdentity, LtiStateValue
from app.models.override import ItemOverride
from app.models.regrade import RegradeBatch, RegradeJob
from app.models.web_session import WebSession

__all__ = [
    "Base", "Blob", "Role", "Submission", "SubmissionFile", "SubmissionItem", "User",
    "AuditEntry", "ItemOverride", "LtiGradeTarget", "LtiIdentity", "LtiStateValue",
    "RegradeBatch", "RegradeJob", "WebSession",
]
