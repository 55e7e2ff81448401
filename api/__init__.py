"""Vaern's HTTP API (FastAPI)."""
