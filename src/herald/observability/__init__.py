"""Cross-cutting operability: how Herald's processes write their logs.

Outside the layers (like :mod:`herald.settings` and :mod:`herald.clock`):
it imports nothing of Herald's, so every layer may use it.
"""
