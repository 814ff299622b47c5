"""The feed of habilitation changes: webhook throughput, and how soon CERES knows a revocation.

    .venv/bin/python bench/habilitation_feed.py [--events 2000] [--revocations 100]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portail_bench_feed .venv/bin/python bench/habilitation_feed.py

1. Throughput: `--events` changes are made, then the worker's delivery pass
   (`portail.oidc.webhooks.deliver_webhooks`, what `run_email_worker` runs on each poll) pushes
   them, signed, one at a time and in order, to a local receiver in another process on another
   core that answers 204. Prints events per second (wall) and per second of this process's CPU
   (the worker's own time; with PostgreSQL, also its server process's).
2. Delay: the real chain — the portal (runserver, serving the JWKS), the worker
   (`manage.py run_email_worker` at its default 1 s polling) and CERES (its server, verifying
   each event and writing its table). `--revocations` times, one after the other at random
   moments of the worker's cycle: a habilitation is revoked (committed) in the portal, then the
   bench watches CERES' database until the person's roles there are empty. Prints median and
   p95 (target: p95 under 2 s). `--direct`: the push from the bench itself, without the polling.

Runs on a throw-away database (a temporary SQLite file, or the PostgreSQL database named by
DATABASE_URL, created and dropped here), never the demo's or production's.
"""

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from multiprocessing import Process
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.token_endpoint import ServerCPU, drop_database, setup_django  # noqa: E402


def pin(core: int) -> None:
    """Keep a process on one core, when the machine has more than one."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core % (os.cpu_count() or 1)})


def unpin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def _receive(port: int) -> None:
    pin(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a production receiver

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def make_people(count: int, role, transaction_size: int = 200) -> list:
    """`count` people granted `role` on establishments of their own (through the primitive: each
    grant writes its event)."""
    from django.db import transaction

    from portail.habilitations.grants import grant_habilitation
    from tests.factories import EstablishmentFactory, UserFactory

    habilitations = []
    for start in range(0, count, transaction_size):
        with transaction.atomic():
            for _ in range(min(transaction_size, count - start)):
                habilitation, _ = grant_habilitation(
                    actor=None,
                    user=UserFactory(password=None),
                    role=role,
                    establishment=EstablishmentFactory(),
                    origin="agent",
                )
                habilitations.append(habilitation)
    return habilitations


def throughput(demarche, events: int) -> None:
    from portail.oidc.clients import set_webhook
    from portail.oidc.models import WebhookSubscription
    from portail.oidc.webhooks import deliver_webhooks

    pin(0)  # the worker's pass here, the receiver on the other core
    port = free_port()
    receiver = Process(target=_receive, args=(port,), daemon=True)
    receiver.start()
    wait_for_port(port)
    role = demarche.roles.get(can_manage=False)
    make_people(events, role)
    set_webhook(actor=None, demarche=demarche, url=f"http://127.0.0.1:{port}/webhook/")
    WebhookSubscription.objects.update(delivered_sequence=0)
    server = ServerCPU()
    delivered = 0
    start, cpu, db_cpu = time.perf_counter(), time.process_time(), server.seconds()
    while delivered < events:
        done = deliver_webhooks()
        assert not done["failed"], done
        delivered += done["delivered"]
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    db_cpu = server.seconds() - db_cpu
    receiver.terminate()
    unpin()  # the next part's processes (which inherit it) share the machine as in production
    print(f"webhook throughput: {delivered} events in {wall:.2f} s")
    print(f"  {delivered / wall:8.0f} events/s (wall, one démarche, one at a time in order)")
    print(f"  {delivered / cpu:8.0f} events/s per second of the worker's CPU")
    if db_cpu:
        print(f"  {1000 * db_cpu / delivered:8.3f} ms of PostgreSQL CPU per event")


def wait_for_port(port: int) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("receiver did not start")


def delay(demarche, revocations: int, tmpdir: Path, direct: bool = False) -> None:
    from django.db import connections, transaction

    from portail.habilitations.grants import revoke_habilitation
    from portail.oidc.clients import set_webhook
    from portail.oidc.models import WebhookSubscription
    from portail.oidc.webhooks import deliver_webhooks
    from tests.ceres.server import CLIENT_ID, CLIENT_SECRET, CeresServer

    portal_port = free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    env = {
        **os.environ,
        "PORTAL_BASE_URL": portal_url,
        "DATABASE_CONN_MAX_AGE": "60",
    }
    portal = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{portal_port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ceres = CeresServer(portal_url, tmpdir)
    worker = None
    try:
        wait_for(f"{portal_url}/o/.well-known/jwks.json")
        ceres.start()
        from portail.oidc.clients import register_demarche_client

        register_demarche_client(
            actor=None,
            demarche=demarche,
            redirect_uris=[ceres.callback_url],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            replace=True,
        )
        demarche.refresh_from_db()
        habilitations = make_people(revocations, demarche.roles.get(can_manage=False))
        set_webhook(actor=None, demarche=demarche, url=f"{ceres.url}/portail/evenements/")
        # What came before is CERES' already (the throughput part pushed it elsewhere).
        from portail.oidc.feed import last_sequence

        WebhookSubscription.objects.update(delivered_sequence=last_sequence(demarche) - revocations)
        from django.conf import settings

        settings.PORTAL_BASE_URL = portal_url
        settings.WEBHOOK_RETRY_BASE_SECONDS = 0
        # The grants reach CERES before the clock starts (its first event makes it read the
        # feed from the start: long, the first tries may time out).
        while WebhookSubscription.objects.get().delivered_sequence < last_sequence(demarche):
            deliver_webhooks()
        connections.close_all()
        worker = (
            None
            if direct
            else subprocess.Popen(
                [sys.executable, "manage.py", "run_email_worker", "--housekeeping-every", "0"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(2)
        ceres_db = sqlite3.connect(ceres.workdir / "ceres.sqlite3", timeout=20)
        delays, pushes = [], []
        rng = random.Random(13)
        for habilitation in habilitations:
            sub = str(habilitation.user.public_id)
            # A revocation comes at any moment of the worker's 1 s cycle, not just after its
            # last pass (which is when the previous one was seen).
            time.sleep(rng.uniform(0, 1))
            start = time.perf_counter()
            with transaction.atomic():
                revoke_habilitation(actor=None, habilitation=habilitation, reason="bench")
            if direct:  # the push alone, without the worker's polling
                push_start = time.perf_counter()
                deliver_webhooks()
                pushes.append(time.perf_counter() - push_start)
            while True:
                row = ceres_db.execute(
                    "select roles from ceres_web_portalroles where sub = ?", (sub,)
                ).fetchone()
                if row and row[0] == "[]":
                    break
                if time.perf_counter() - start > 30:
                    raise RuntimeError("CERES did not learn the revocation within 30 s")
                time.sleep(0.01)
            delays.append(time.perf_counter() - start)
        delays.sort()
        p95 = delays[int(0.95 * (len(delays) - 1))]
        print(f"revocation → CERES knows it, over {len(delays)} revocations (worker polling 1 s):")
        print(
            f"  median {statistics.median(delays):.3f} s, p95 {p95:.3f} s, max {delays[-1]:.3f} s"
            f" — target p95 < 2 s: {'met' if p95 < 2 else 'NOT met'}"
        )
        if pushes:
            print(
                f"  of which the push itself (sign, POST, CERES verifies and writes, answers): "
                f"median {statistics.median(pushes):.3f} s"
            )
    finally:
        for process in (worker, portal):
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
        ceres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--revocations", type=int, default=100)
    parser.add_argument(
        "--direct",
        action="store_true",
        help="push each revocation from this process at once (the delay without the polling)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg_url = setup_django(tmp)
        try:
            from portail.demarches.catalogue import CERES, install_catalogue
            from portail.demarches.models import Demarche, Role

            install_catalogue(Demarche, Role)
            demarche = Demarche.objects.get(code=CERES)
            print(
                f"database: {os.environ['DATABASE_URL'].split('://')[0]}, cores: {os.cpu_count()}"
            )
            throughput(demarche, args.events)
            delay(demarche, args.revocations, Path(tmp), direct=args.direct)
        finally:
            if pg_url:
                drop_database(pg_url)
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
