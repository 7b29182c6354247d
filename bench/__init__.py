"""Benchmarks: measured rates of Herald's moving parts against the sandbox."""
