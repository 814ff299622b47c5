"""Each middleware's own share of a request: what it costs beyond the layers inside it.

    .venv/bin/python bench/middleware_cost.py jwks,home,mon_compte     # N=300 requests each

bench/inprocess.py's set-up (production settings, the bench's SQLite database, Django's test
client). Every layer Django builds (`convert_exception_to_response`) is timed inclusively; a
layer's own time is its time less the next layer's. Lazy work (the session's read, the user) is
charged to the layer that first touches it. Never part of the test suite.
"""

import os
import statistics
import sys
import time
from pathlib import Path

from django.core.handlers import base

_layers: list[str] = []
_spent: list[list[float]] = []
_original = base.convert_exception_to_response


def _timed(get_response):  # type: ignore[no-untyped-def]
    inner = _original(get_response)
    index = len(_layers)
    _layers.append(getattr(get_response, "__qualname__", type(get_response).__qualname__))
    _spent.append([])

    def layer(request):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return inner(request)
        finally:
            _spent[index].append(time.perf_counter() - started)

    return layer


# Before the handler is built (the test client builds it at its first request).
base.convert_exception_to_response = _timed  # type: ignore[assignment]
sys.path.insert(0, str(Path(__file__).parent))
import inprocess  # noqa: E402

S = inprocess.steps()
n = int(os.environ.get("N", "300"))
for name in (sys.argv[1] if len(sys.argv) > 1 else "jwks,home,mon_compte").split(","):
    for _ in range(20):
        S[name]()
    for spent in _spent:
        spent.clear()
    for _ in range(n):
        S[name]()
    # Django builds the chain inside out: the view's wrapper first, the outermost last.
    inclusive = [statistics.median(spent) * 1e6 if spent else 0.0 for spent in _spent]
    order = list(range(len(_layers)))[::-1]
    print(f"{name}: whole chain median {inclusive[order[0]]:.0f} µs")
    for position, index in enumerate(order):
        inner_time = inclusive[order[position + 1]] if position + 1 < len(order) else 0.0
        print(f"  {inclusive[index] - inner_time:7.1f} µs  {_layers[index]}")
