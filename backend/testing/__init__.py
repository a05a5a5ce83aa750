"""What the tests, the benchmarks and the scripts share (needs the dev extra: `pip install -e '.[dev]'`).

live_server  the real `python -m backend.serve` on a free loopback port, its memory and CPU
service      settings for the shipped weights, an in-process ASGI client, digit pictures
browser      Debian's chromium through Playwright, a live server for the page, PageWatch
pad_driver   drawing on the page's pad with mouse, touch and pen
strokes      handwritten-like strokes for the ten digits
"""
