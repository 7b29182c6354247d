"""Typed dependencies, declared once and used by every route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from herald.services.container import Herald


def get_herald(request: Request) -> Herald:
    herald = request.app.state.herald
    assert isinstance(herald, Herald)
    return herald


def get_session(herald: Annotated[Herald, Depends(get_herald)]) -> Iterator[Session]:
    with herald.sessions() as session:
        yield session


def get_read_session(herald: Annotated[Herald, Depends(get_herald)]) -> Iterator[Session]:
    """A session for routes that only read: on SQLite it never waits for a writer."""
    with herald.read_sessions() as session:
        yield session


HeraldDep = Annotated[Herald, Depends(get_herald)]
SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
