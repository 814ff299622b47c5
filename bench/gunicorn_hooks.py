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

The lines also carry the window's user and system CPU apart, its minor page faults (memory the
kernel had to hand the process: sys time that no Python profile shows) and the Python function
calls made in it. With BENCH_PROFILE=<path>, each measured step's windows are profiled by
cProfile, summed per step and written to <path>-<app>-<step>.pstats when the worker exits: what
the worker did between the previous answer and this one, accept loop and all. Calls are counted
by a profile function, which slows the worker: compare calls and faults, not CPU, in such a run.

Under callgrind (BENCH_CALLGRIND, bench/harness.py) each request ends with a call of libc's
`getloadavg`, which nothing else in the worker calls: callgrind dumps its counts just before it,
so the n-th dump of the worker holds the instructions of the n-th line's window.
"""

import cProfile
import gc
import json
import os
import pstats
import resource
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
PROFILE = os.environ.get("BENCH_PROFILE", "")
CALLGRIND = bool(os.environ.get("BENCH_CALLGRIND"))
_profiles: dict[str, pstats.Stats] = {}
_window = {"profile": None, "usage": None}


def _usage() -> tuple[float, float, int]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime, usage.ru_minflt


def _open_window() -> None:
    """From the end of one request to the end of the next: what the next line is charged."""
    _window["usage"] = _usage()
    if PROFILE:
        profile = cProfile.Profile()
        _window["profile"] = profile
        profile.enable()


def _close_window(step: str) -> dict:
    profile, calls = _window["profile"], None
    if profile is not None:
        profile.disable()
        stats = pstats.Stats(profile)
        calls = stats.total_calls  # type: ignore[attr-defined]
        if not step.startswith(("setup:", "warmup:")):
            if step in _profiles:
                _profiles[step].add(stats)
            else:
                _profiles[step] = stats
    user, system, faults = _usage()
    before = _window["usage"] or (user, system, faults)
    return {
        "user": user - before[0],
        "sys": system - before[1],
        "faults": faults - before[2],
        "calls": calls,
    }


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
    _open_window()


def worker_exit(server, worker):
    app = os.environ.get("BENCH_APP", "")
    for step, stats in _profiles.items():
        stats.dump_stats(f"{PROFILE}-{app}-{step.replace('/', '_').replace(' ', '_')}.pstats")


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
    window = _close_window(step)
    line = {
        "app": os.environ.get("BENCH_APP", ""),
        "pid": os.getpid(),
        "step": step,
        "status": resp.status_code if resp is not None else 0,
        "cpu": cpu,
        "gc": _state["gc"],
        "collections": _state["collections"],
        "queries": _state["queries"],
        **window,
    }
    _state["gc"], _state["collections"] = 0.0, [0, 0, 0]
    _state["file"].write(json.dumps(line) + "\n")
    if DUMP and step not in _dumped and not step.startswith(("setup:", "warmup:")):
        _dumped.add(step)
        with Path(f"{DUMP}-{line['app']}").open("a") as dump:
            dump.write(f"== {step}\n" + "\n".join(_state["sql"]) + "\n")
    if CALLGRIND:
        os.getloadavg()  # callgrind's mark: the dump of this window's instructions
    _open_window()
