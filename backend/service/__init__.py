"""The web service: the FastAPI app that serves the recogniser to the page and to other services.

app           create_app(settings): wiring only (lifespan, middleware, routers, the static page)
routes/       one module per group of endpoints: predict, v2 (Open Inference Protocol), meta, metrics, docs
dependencies  typed FastAPI dependencies: the served model, settings, batcher, capped request bodies
errors        where errors become responses, one boundary per protocol
payloads      fast, strict JSON parsing of pixels; schemas: the pydantic models that declare the contract
images        PNG/JPEG uploads -> grey levels
served_model  the model in memory and its predict; batcher: concurrent single digits in one pass
middleware    security headers, request metrics; telemetry: the Prometheus definitions
settings      one typed settings object from the environment; launcher: gunicorn + uvicorn workers
"""
