"""Corrections from the page and the API: where they are kept (store.py, migrations/) and how fast a
client may send them (ratelimit.py). The HTTP routes are routes/feedback.py."""
