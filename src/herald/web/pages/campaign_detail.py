"""One campaign: live progress, subscriber activity, message logs and controls."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
