"""Starts the whole demo: local mailbox, email worker, portal (and CERES once it exists).

Run by `make demo` after the database is migrated and the demo data loaded. Ctrl-C stops all.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def processes() -> list[tuple[str, list[str]]]:
    procs = [
        ("mailbox", [PY, "-m", "portail.devtools.mailbox", "--dir", str(ROOT / "var" / "mailbox")]),
        ("worker", [PY, "manage.py", "run_email_worker"]),
        ("portail", [PY, "manage.py", "runserver", "127.0.0.1:8000", "--noreload"]),
    ]
    ceres_manage = ROOT / "ceres" / "manage.py"
    if ceres_manage.exists():
        procs.append(
            ("ceres", [PY, str(ceres_manage), "runserver", "127.0.0.1:8001", "--noreload"])
        )
    return procs


def main() -> int:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    running: list[tuple[str, subprocess.Popen]] = []
    for name, cmd in processes():
        running.append((name, subprocess.Popen(cmd, cwd=ROOT, env=env)))
    time.sleep(2)
    print(
        "\n".join(
            [
                "",
                "=" * 72,
                "  Portail de services : http://127.0.0.1:8000/",
                "  Boîte de réception locale : http://127.0.0.1:8025/",
                *(
                    ["  CERES : http://127.0.0.1:8001/"]
                    if any(n == "ceres" for n, _ in running)
                    else []
                ),
                "  Identifiants de démonstration : voir ci-dessus (load_demo_data).",
                "  Ctrl-C pour tout arrêter.",
                "=" * 72,
            ]
        ),
        flush=True,
    )
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, proc in running:
            if proc.poll() is not None:
                print(f"{name} stopped (exit {proc.returncode}); stopping the demo.", flush=True)
                stopping, code = True, 1
        time.sleep(0.5)
    for _, proc in running:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for _, proc in running:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("Demo stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
