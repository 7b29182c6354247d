"""The FastAPI application: API, provider webhooks and server-rendered UI."""
