"""`uvicorn backend.main:app`: the ASGI app built from the environment's settings (see backend/service/app.py)."""

from backend.service.app import create_app

app = create_app()
