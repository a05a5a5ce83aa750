"""`uvicorn backend.main:app`: the ASGI app built from the environment's settings (see backend/service/app.py).

Not the supported way to serve it: `python -m backend.serve` (the launcher, what `make run` and the
Docker image run) is. Under plain uvicorn, or any other ASGI server, the app keeps its own limits (body
caps, the per-worker buffer budget, large bodies parsed in a helper process, picture budgets) but has
none of the launcher's connection limits (backend/service/protocol.py): no cap on the size or count of
headers, no read timeouts, no minimum upload rate. It says so in a warning as it starts.
"""

import logging

from backend.service.app import create_app

app = create_app()

logging.getLogger(__name__).warning(
    "serving without the launcher: no limits on header size or count, no read timeouts and no minimum upload rate "
    "(README, Security); `python -m backend.serve` is the supported way to serve this app"
)
