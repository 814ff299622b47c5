"""Faults during the load, each scripted and checked, on the production-shaped run.

    python -m bench.faults.run                      # every fault (`make faults`)
    python -m bench.faults.run postgres smtp        # some of them

For each fault: the mixed traffic of bench/load/ runs (6 users); 10 s in, the fault starts; it
ends (or the system heals it) and the traffic goes on for 25 s. Then the script prints what the
users saw (failed requests, by kind and error, and when), what /healthz said during the fault,
and the after-checks of bench/load/checks.py: the outbox drained, every email sent reached the
SMTP server once, no change without its journal line or its email. A fault passes when nothing
was lost, doubled or half-applied, no request failed outside the outage (plus a few seconds of
grace) and everything came back without a manual step.

The faults:

- `postgres`: PostgreSQL restarted (fast shutdown: open connections are cut);
- `redis`: Redis stopped for 10 s, then started again;
- `smtp`: the SMTP server stopped for 15 s;
- `email-worker`: both email workers killed (SIGKILL) in the middle of a send: the SMTP server
  is paused first, so that they hang inside the conversation, rows "sending";
- `web-worker`: one gunicorn worker of each portal instance killed (SIGKILL) during the load.
"""

import argparse
import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from bench.load import checks
from scripts import prodlike

ROOT = Path(__file__).resolve().parents[2]
OUT = prodlike.VAR / "faults"
BEFORE, AFTER, GRACE = 10, 25, 5


@dataclass
class Window:
    """When the fault started and ended (seconds since the load started), what /healthz said."""

    start: float = 0.0
    end: float = 0.0
    health: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def healthz() -> str:
    try:
        answer = requests.get(
            f"{prodlike.PORTALS[0]}/healthz", verify=str(prodlike.CERT), timeout=5
        )
        return f"{answer.status_code} {answer.text.strip()}"
    except requests.RequestException as error:
        return f"no answer ({type(error).__name__})"


def redis_log_lines() -> list[str]:
    """The portal's log lines that name Redis (its cache's client errors), all instances."""
    lines = []
    for i in range(1, len(prodlike.PORTAL_PORTS) + 1):
        log = prodlike.LOG / f"portal-{i}.log"
        if log.exists():
            lines += [
                line for line in log.read_text(errors="replace").splitlines() if "edis" in line
            ]
    return lines


def kill(name: str, sig: signal.Signals = signal.SIGKILL) -> int | None:
    pid = prodlike.pid_of(name)
    if pid:
        os.kill(pid, sig)
    return pid


# --- the faults: each acts at t = BEFORE and returns when it is over ------------------------------


def postgres(window: Window, t0: float) -> None:
    window.start = time.time() - t0
    prodlike.restart_postgres()
    window.end = time.time() - t0
    window.health.append(f"just after the restart: {healthz()}")


def redis(window: Window, t0: float) -> None:
    if not prodlike.redis_wanted():
        window.notes.append("Redis not used (no redis package): nothing to stop")
        return
    logged_before = redis_log_lines()
    normal = healthz()
    window.start = time.time() - t0
    prodlike.stop_redis()
    time.sleep(3)
    down = healthz()
    window.health.append(f"Redis down: {down}")
    time.sleep(7)
    prodlike.start_redis()
    window.end = time.time() - t0
    time.sleep(2)
    window.health.append(f"Redis back: {healthz()}")
    logged = redis_log_lines()[len(logged_before) :]
    window.notes.append(f"{len(logged)} log lines of the portal name Redis during the outage")
    if logged:
        window.notes.append("first: " + logged[0][:200])
    # The design (issue #15): the portal says it in /healthz, not only by failing requests.
    if down.split(" ", 1)[1:] == normal.split(" ", 1)[1:]:
        window.problems.append("/healthz said nothing of Redis being down")


def smtp(window: Window, t0: float) -> None:
    hold = prodlike.RUN / "mailbox.hold"
    hold.touch()
    window.start = time.time() - t0
    kill("mailbox", signal.SIGTERM)
    time.sleep(8)
    window.health.append(f"SMTP down: {healthz()}")
    time.sleep(7)
    hold.unlink()  # the supervisor starts it again
    window.end = time.time() - t0
    window.notes.append("the email workers retry with back-off (2 s, 4 s, 8 s…)")


def email_worker(window: Window, t0: float) -> None:
    window.start = time.time() - t0
    mailbox = prodlike.pid_of("mailbox")
    if mailbox:
        os.kill(mailbox, signal.SIGSTOP)  # workers connect, then wait for the greeting
    deadline = time.monotonic() + 12
    sending = 0
    while time.monotonic() < deadline and not sending:
        time.sleep(0.5)
        sending = sending_rows()
    killed = [kill("email-1"), kill("email-2")]
    window.notes.append(f"{sending} rows 'sending' when both workers were killed ({killed})")
    if mailbox:
        os.kill(mailbox, signal.SIGCONT)
    window.end = time.time() - t0
    window.notes.append(
        "rows left 'sending' go again after OUTBOX_STALE_CLAIM_SECONDS (30 s here, 600 s default)"
    )


def web_worker(window: Window, t0: float) -> None:
    window.start = time.time() - t0
    killed = []
    for i in range(1, len(prodlike.PORTAL_PORTS) + 1):
        master = prodlike.pid_of(f"portal-{i}")
        if master:
            workers = psutil.Process(master).children()
            if workers:
                workers[0].kill()
                killed.append(workers[0].pid)
    window.end = time.time() - t0
    window.notes.append(f"killed workers {killed}; gunicorn starts new ones")


FAULTS = {
    "postgres": postgres,
    "redis": redis,
    "smtp": smtp,
    "email-worker": email_worker,
    "web-worker": web_worker,
}


def sending_rows() -> int:
    import psycopg

    with psycopg.connect(prodlike.DATABASE_URL, autocommit=True) as db:
        row = db.execute(
            "SELECT count(*) FROM notifications_outboxemail WHERE status = 'sending'"
        ).fetchone()
    return int(row[0]) if row else 0


# --- one fault under load -------------------------------------------------------------------------


def failures_over_time(prefix: Path, t0: float) -> list[tuple[int, int]]:
    """(seconds since t0, failures in that second), from Locust's full history (its timestamps
    are the wall clock's, to the second)."""
    with Path(f"{prefix}_stats_history.csv").open() as found:
        rows = [r for r in csv.DictReader(found) if r["Name"] == "Aggregated"]
    if not rows:
        return []
    timeline, previous = [], 0
    for row in rows:
        total = int(row["Total Failure Count"])
        if total > previous:
            timeline.append((round(int(row["Timestamp"]) - t0), total - previous))
        previous = total
    return timeline


def what_users_saw(prefix: Path) -> list[str]:
    with Path(f"{prefix}_failures.csv").open() as found:
        rows = sorted(csv.DictReader(found), key=lambda r: -int(r["Occurrences"]))
    return [f"{r['Occurrences']:>4} × {r['Method']} {r['Name']}: {r['Error'][:110]}" for r in rows]


def run_fault(name: str, invitee_start: int) -> bool:
    print(f"\n=== Fault: {name} ===", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    prefix = OUT / name
    duration = BEFORE + 15 + AFTER
    env = {**os.environ, "LOAD_PEOPLE": "200", "LOAD_INVITEE_START": str(invitee_start)}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        "bench/load/locustfile.py",
        "--headless",
        "--users",
        "6",
        "--spawn-rate",
        "6",
        "--run-time",
        f"{duration}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--csv-full-history",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    with (OUT / f"{name}.log").open("wb") as log:
        load = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    t0 = time.time()
    time.sleep(BEFORE)
    window = Window()
    FAULTS[name](window, t0)
    load.wait()
    timeline = failures_over_time(prefix, t0)
    saw = what_users_saw(prefix)
    outside = [(t, n) for t, n in timeline if t < window.start - 1 or t > window.end + GRACE]
    print(f"fault from {window.start:.1f} s to {window.end:.1f} s of a {duration} s load (6 users)")
    for note in window.notes:
        print("  " + note)
    for health in window.health:
        print("  /healthz " + health)
    failed = sum(n for _, n in timeline)
    print(f"What the users saw: {failed} failed requests" + (":" if saw else "."))
    for line in saw[:8]:
        print("  " + line)
    if timeline:
        print("  failures at (s: count) " + ", ".join(f"{t}: {n}" for t, n in timeline))
    healed = all(prodlike.pid_of(p) for p in prodlike.processes())
    lines, problems = checks.after_checks(timeout=90)
    print("After-checks:")
    for line in lines:
        print("  " + line)
    problems += window.problems
    if outside:
        problems.append(f"{sum(n for _, n in outside)} failures outside the outage: {outside}")
    if not healed:
        problems.append("a process is not running again")
    final = healthz()
    if not final.startswith("200"):
        problems.append(f"/healthz after the fault: {final}")
    for problem in problems:
        print("  PROBLEM: " + problem)
    print("PASS" if not problems else "FAIL", name, flush=True)
    return not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("faults", nargs="*", help=f"among {', '.join(FAULTS)} (default: all)")
    parser.add_argument("--keep", action="store_true", help="leave prod-like running")
    args = parser.parse_args()
    names = args.faults or list(FAULTS)
    unknown = set(names) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults {sorted(unknown)}; choose among {', '.join(FAULTS)}")
    started_here = prodlike.pid_of("supervisor") is None
    if started_here:
        subprocess.run([sys.executable, "scripts/prodlike.py", "start"], cwd=ROOT, check=True)
    try:
        from bench.load.run import seed

        results = {}
        for name in names:
            invitee_start = seed(6, BEFORE + 15 + AFTER)
            results[name] = run_fault(name, invitee_start)
        print("\n" + ", ".join(f"{n}: {'PASS' if ok else 'FAIL'}" for n, ok in results.items()))
        return 0 if all(results.values()) else 1
    finally:
        if started_here and not args.keep:
            subprocess.run([sys.executable, "scripts/prodlike.py", "stop"], cwd=ROOT, check=False)


if __name__ == "__main__":
    sys.exit(main())
