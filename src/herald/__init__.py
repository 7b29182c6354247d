"""Herald: multi-channel outreach campaigns with fallbacks, follow-ups and reply agents."""

from __future__ import annotations

__version__ = "0.1.0"
