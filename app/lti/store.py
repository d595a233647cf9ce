"""PyLTI1p3's launch data storage (OIDC nonces, state, launch data) in the database, so that
login and launch may land on different API processes."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from pylti1p3.launch_data_storage.cache import CacheDataStorage
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from app.models.base import utcnow
from app.models.lti import LtiStateValue

DEFAULT_LIFETIME = 3600


class DbCache:
    """The get/set cache interface `CacheDataStorage` expects, over the `lti_state` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get(self, key: str) -> Any:
        with self._sessions() as db:
            row = db.get(LtiStateValue, key)
            if row is None or row.expires_at <= utcnow():
                return None
            return row.value

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        expires = utcnow() + timedelta(seconds=exp or DEFAULT_LIFETIME)
        with self._sessions() as db, db.begin():
            db.execute(delete(LtiStateValue).where(LtiStateValue.expires_at <= utcnow()))
            row = db.get(LtiStateValue, key)
            if row is None:
                db.add(LtiStateValue(key=key, value=value, expires_at=expires))
            else:
                row.value, row.expires_at = value, expires

    def delete(self, key: str) -> None:
        with self._sessions() as db, db.begin():
            db.execute(delete(LtiStateValue).where(LtiStateValue.key == key))


class DbLaunchDataStorage(CacheDataStorage):
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        super().__init__()
        self._cache = DbCache(sessions)

    def delete_value(self, key: str) -> None:
        self._cache.delete(self._prepare_key(key))
