"""What the benchmarks share: pinning to a core, a process's CPU time from /proc, percentiles,
a gunicorn server started as an operator would, and a small HTTP client that keeps cookies.

Imported by the scripts of bench/ (run from the repository's root: `python bench/<name>.py`).
"""

import contextlib
import http.client
import os
import re
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOOKS = Path(__file__).resolve().parent / "gunicorn_hooks.py"


def pin(core: int | None) -> None:
    """Keep this process (and the children it starts after) on one core."""
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid`, from /proc/<pid>/stat (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """One gunicorn sync worker serving `app` (a WSGI path), pinned to `core`.

    bench/gunicorn_hooks.py appends one JSON line per request to `request_log`: the worker's
    CPU time since the previous request ended (parsing, the view, writing the answer) and the
    SQL statements Django sent. Nothing of it exists outside the benchmark."""

    def __init__(self, name: str, app: str, env: dict[str, str], workdir: Path, core: int | None):
        self.name = name
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.core = core
        self.request_log = workdir / f"{name}-requests.jsonl"
        self.error_log = workdir / f"{name}-gunicorn.log"
        self.env = {**env, "BENCH_REQUEST_LOG": str(self.request_log), "BENCH_APP": name}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "Gunicorn":
        self.request_log.unlink(missing_ok=True)
        # taskset pins gunicorn's master, whose worker inherits the core.
        pinning = ["taskset", "--cpu-list", str(self.core)] if self.core is not None else []
        counting, patience = self.callgrind()
        command = [
            *pinning,
            *counting,
            sys.executable,
            "-m",
            "gunicorn",
            "--workers=1",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{self.port}",
            f"--config={HOOKS}",
            f"--error-logfile={self.error_log}",
            self.app,
        ]
        self.process = subprocess.Popen(
            command,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} stopped at start-up:\n{self.error_log.read_text()}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                headers = {"Host": "127.0.0.1", "X-Bench-Step": "setup:ready"}
                conn.request("GET", "/__bench_ready__", headers=headers)
                conn.getresponse().read()
                conn.close()
                return self
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not start within {patience} seconds")

    def callgrind(self) -> tuple[list[str], int]:
        """With BENCH_CALLGRIND=<folder>: the server under callgrind, which counts the
        instructions each request's window costs (one dump per request, see gunicorn_hooks.py):
        the same count whatever else the machine does, where CPU time drifts by tens of per cent.
        About fifty times slower: a few rounds only."""
        folder = os.environ.get("BENCH_CALLGRIND")
        if not folder:
            return [], 60
        Path(folder).mkdir(parents=True, exist_ok=True)
        for old in Path(folder).glob(f"{self.name}.*"):
            old.unlink()
        self.env["GUNICORN_CMD_ARGS"] = "--timeout=900"
        out = Path(folder).resolve() / f"{self.name}.%p"
        return [
            "valgrind",
            "--tool=callgrind",
            "--trace-children=yes",
            "--dump-before=getloadavg",
            f"--callgrind-out-file={out}",
        ], 900

    def worker_pid(self) -> int:
        """The worker's process id (gunicorn's master forks it)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


COLLECT_STATIC = """
import hashlib, sys
from pathlib import Path
import django
django.setup()
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core.management import call_command
seen = hashlib.sha256()
for finder in get_finders():
    for path, storage in finder.list([]):
        stat = Path(storage.path(path)).stat()
        seen.update(f"{path}{stat.st_mtime_ns}{stat.st_size}".encode())
stamp = Path(settings.STATIC_ROOT) / ".bench-sources"
if not stamp.exists() or stamp.read_text() != seen.hexdigest():
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(seen.hexdigest())
"""


def collect_static(env: dict[str, str]) -> None:
    """collectstatic for the settings of `env`, skipped when no source file changed since the
    last run (whitenoise compresses every file again: minutes on a shared machine)."""
    subprocess.run([sys.executable, "-c", COLLECT_STATIC], env=env, cwd=ROOT, check=True)


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")


class Browser:
    """One person's browser: cookies per host:port (the `Secure` flag is ignored, as TLS ends
    at the proxy that the `X-Forwarded-Proto: https` header stands for)."""

    def __init__(self) -> None:
        self.cookies: dict[str, dict[str, str]] = {}

    def request(
        self, method: str, url: str, step: str, body: bytes = b"", headers: dict | None = None
    ) -> tuple[Response, float]:
        """The answer and its wall time in seconds. `step` names the request in the logs."""
        parts = urlsplit(url)
        host = parts.netloc
        jar = self.cookies.setdefault(host, {})
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        sent = {
            "Host": host,
            "X-Forwarded-Proto": "https",
            "X-Bench-Step": step,
            "Connection": "close",
            **(headers or {}),
        }
        if jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if body:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = f"https://{host}"  # Django's CSRF check of an https request
        start = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request(method, path, body=body or None, headers=sent)
        answer = conn.getresponse()
        content = answer.read()
        elapsed = time.perf_counter() - start
        conn.close()
        for key, value in answer.getheaders():
            if key.lower() == "set-cookie":
                cookie = SimpleCookie()
                cookie.load(value)
                for name, morsel in cookie.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        jar.pop(name, None)
                    else:
                        jar[name] = morsel.value
        return Response(answer.status, answer.getheaders(), content), elapsed

    def csrf_token(self, page: bytes) -> str:
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not found:  # pragma: no cover - the benchmark would lie
            raise SystemExit("no CSRF token in the page")
        return found.group(1).decode()
