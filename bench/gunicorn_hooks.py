"""gunicorn configuration of the benchmarks (bench/harness.py): one JSON line per request.

Each line: the step the client named (X-Bench-Step; the path for a démarche's own calls to the
portal), the status, the worker's CPU time since the previous request ended (so accepting and
parsing the request count too), the part of it the cyclic garbage collector took (a collection
of the oldest generation walks every object of the process: it lands on whichever request
happens to trigger it), the collections by generation, and the SQL statements Django sent. The counter is a database
execute wrapper installed here, in the benchmark's server only: no setting, no middleware, nothing
of it in the product's code paths.

With BENCH_SQL_DUMP=<path>, the statements of each step's first measured request are written to
<path>-<app> (`BENCH_SQL_DUMP=/tmp/sql .venv/bin/python bench/pages.py`): what a count is made of.
"""

import gc
import json
import os
import time
from pathlib import Path

accesslog = None
_state = {
    "cpu": time.process_time(),
    "queries": 0,
    "file": None,
    "installed": False,
    "sql": [],
    "gc": 0.0,
    "gc_started": 0.0,
    "collections": [0, 0, 0],
}
DUMP = os.environ.get("BENCH_SQL_DUMP", "")
_dumped: set[str] = set()


def _count(execute, sql, params, many, context):
    _state["queries"] += 1
    if DUMP:
        _state["sql"].append(sql[:200])
    return execute(sql, params, many, context)


def _gc_clock(phase, info):
    if phase == "start":
        _state["gc_started"] = time.process_time()
    else:
        _state["gc"] += time.process_time() - _state["gc_started"]
        _state["collections"][info["generation"]] += 1


def post_fork(server, worker):
    gc.callbacks.append(_gc_clock)
    _state["file"] = Path(os.environ["BENCH_REQUEST_LOG"]).open("a", buffering=1)  # noqa: SIM115
    _state["cpu"] = time.process_time()


def pre_request(worker, req):
    if not _state["installed"]:
        from django.db import connections

        connections["default"].execute_wrappers.append(_count)
        _state["installed"] = True
    _state["queries"] = 0
    _state["sql"] = []


def post_request(worker, req, environ, resp):
    now = time.process_time()
    cpu, _state["cpu"] = now - _state["cpu"], now
    step = environ.get("HTTP_X_BENCH_STEP") or f"{environ['REQUEST_METHOD']} {req.path}"
    line = {
        "app": os.environ.get("BENCH_APP", ""),
        "pid": os.getpid(),
        "step": step,
        "status": resp.status_code if resp is not None else 0,
        "cpu": cpu,
        "gc": _state["gc"],
        "collections": _state["collections"],
        "queries": _state["queries"],
    }
    _state["gc"], _state["collections"] = 0.0, [0, 0, 0]
    _state["file"].write(json.dumps(line) + "\n")
    if DUMP and step not in _dumped and not step.startswith(("setup:", "warmup:")):
        _dumped.add(step)
        with Path(f"{DUMP}-{line['app']}").open("a") as dump:
            dump.write(f"== {step}\n" + "\n".join(_state["sql"]) + "\n")
