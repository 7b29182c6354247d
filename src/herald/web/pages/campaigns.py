"""Campaigns list and the three-step campaign builder."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
