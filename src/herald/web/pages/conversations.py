"""Conversations: the filtered list and the thread view with hand-off."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
