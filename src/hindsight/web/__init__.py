"""The web application (FastAPI, server-rendered HTML)."""
