"""ORM models, one module per concept. Import every model module here so that Alembic's
autogenerate and the relationships see the whole schema."""
from app.models.base import Base
from app.models.blob import Blob
from app.models.submission import Submission, SubmissionFile, SubmissionItem
from app.models.user import Role, User

__all__ = ["Base", "Blob", "Role", "Submission", "SubmissionFile", "SubmissionItem", "User"]
