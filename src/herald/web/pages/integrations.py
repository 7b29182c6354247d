"""Provider integrations: add, test the connection, activate."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
