"""Bearer tokens: high-entropy random strings, stored only as their sha256.

Looking a user up by the hash of the presented token leaks nothing useful through timing: an
attacker would have to find a sha256 preimage, not a prefix of the token."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Role, User

TOKEN_PREFIX = "ag_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(db: Session, token: str) -> User | None:
    return db.scalar(select(User).where(User.token_hash == hash_token(token)))


def create_user(
    db: Session, name: str, role: Role, *, email: str | None = None, external_id: str | None = None
) -> tuple[User, str]:
    """A new user and their token (shown once; only its hash is kept). Caller commits."""
    token = new_token()
    user = User(name=name, role=role.value, email=email, external_id=external_id, token_hash=hash_token(token))
    db.add(user)
    db.flush()
    return user, token


def rotate_token(user: User) -> str:
    """A new token for an existing user; the old one stops working. Caller commits."""
    token = new_token()
    user.token_hash = hash_token(token)
    return token
