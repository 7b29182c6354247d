"""A provider emulator on loopback.

It speaks each provider's real HTTP API (same paths, auth, JSON, error codes)
and posts signed webhooks back to Herald, so Herald's real clients run
against it with only the base URL changed. The demo, the tests and the
benchmarks use it.
"""
