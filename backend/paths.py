"""Where the project's own folders are, relative to this checkout: one home for the repo root."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = PROJECT_ROOT / "model_weights"
FRONTEND_DIR = PROJECT_ROOT / "frontend"
DATA_CACHE_DIR = PROJECT_ROOT / ".data"
