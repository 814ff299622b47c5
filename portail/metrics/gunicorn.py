"""gunicorn settings for the metrics under several workers: `gunicorn -c python:portail.metrics.gunicorn`.

With PROMETHEUS_MULTIPROC_DIR set (an empty folder per instance, emptied at each start), every
worker writes its series to files there and `/metrics` adds them up; a worker that exits is marked
dead so that its histograms stay counted but its gauges leave.
"""

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess  # noqa: PLC0415 (only under gunicorn)

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
