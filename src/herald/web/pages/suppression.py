"""The suppression list: who must never be contacted again."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
