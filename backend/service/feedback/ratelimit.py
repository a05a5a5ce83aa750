"""A token bucket per client: how many corrections one client may send, in bursts and on average.

    limiter = TokenBuckets(rate=0.5, burst=20)
    wait_s = limiter.take("203.0.113.7")     # 0.0: go ahead; else seconds until a token is free (429, Retry-After)

Each client's bucket holds up to `burst` tokens and refills at `rate` tokens a second; a request
takes one. The buckets live in this process's memory, keyed by whatever the caller passes (the
route passes the client's address; it is never written anywhere), so with N workers a client may
reach N times the rate: the limit is there to keep one client from filling the disk, not to meter.
At most `max_clients` buckets are kept: full ones are forgotten first (a full bucket is the same as
no bucket), then the least recently used.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    def __init__(self, rate: float, burst: int, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Take a token for `client`: 0.0 if it had one, else the seconds until it will (nothing is taken then)."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self.clock()
            tokens, then = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)  # at the end: the most recently used
            if len(self._buckets) > self.max_clients:
                self._forget(now)
            return wait

    def _forget(self, now: float) -> None:
        for client, (tokens, then) in list(self._buckets.items()):
            if tokens + (now - then) * self.rate >= self.burst:
                del self._buckets[client]
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
