"""The JSON REST API under ``/api/v1``.

One router per resource, with separate input and output schemas.
"""

API_PREFIX = "/api/v1"
