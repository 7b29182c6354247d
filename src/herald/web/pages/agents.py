"""AI agents and their versions; publish."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
