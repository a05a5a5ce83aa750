"""Draw-a-digit: a from-scratch NumPy MLP for MNIST, the recogniser built on it, and its web service.

Two wings, and dependencies point one way (service -> recognition -> nn):

    nn/           the network and its training, pure NumPy: z(l) = W(l) a(l-1) + b(l), a(l) = sigma(z(l))
    recognition/  pictures to answers without the web: MNIST-style framing, evaluation
    service/      the web app: FastAPI routes, parsing, the served model, middleware, settings, launcher
    testing/      what tests, benchmarks and scripts share: a live server, the browser harness, helpers

main.py (`uvicorn backend.main:app`) and serve.py (`python -m backend.serve`) are thin entry points.
Only service/ and testing/ import FastAPI, Starlette, uvicorn, gunicorn or prometheus-client.
"""
