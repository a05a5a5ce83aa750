"""`python -m backend.serve`: the production launcher behind `make run` and the Docker image (see backend/service/launcher.py)."""

import sys

from backend.service.launcher import main

if __name__ == "__main__":
    sys.exit(main())
