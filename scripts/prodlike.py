"""The portal run the way production runs it, on one machine, on loopback only.

    python scripts/prodlike.py start     # `make prod-like`: starts everything, returns when ready
    python scripts/prodlike.py status    # what runs, with pids
    python scripts/prodlike.py stop      # `make prod-like-stop`: stops everything it started

What starts (every address 127.0.0.1; files, logs and pids under var/prodlike/):

- PostgreSQL: a cluster of its own on port 5440 (databases `portail_prodlike`, `ceres_prodlike`),
  so that the fault scripts can restart it without touching anybody else's server;
- Redis on port 6390 (its own too), the portal's cache and rate limits when the `redis` package
  is installed; otherwise the database cache;
- the portal: two gunicorn instances of two workers each, https on 8441 and 8442 (TLS with a
  self-signed certificate under var/prodlike/tls/: the load-balancer's place is taken by the load
  test's client, which spreads people over both), production settings;
- CERES: one gunicorn instance, https on 8443, signing in through the portal (issuer
  https://127.0.0.1:8441/o);
- two email workers, and the local mailbox as the SMTP server (port 1035, its page on 8035).

A supervisor process keeps the application processes running, as systemd would: one that exits
is started again after a second (unless var/prodlike/run/<name>.hold exists: the fault scripts
use it to keep the SMTP server down for a while).
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "prodlike"
RUN, LOG, TLS = VAR / "run", VAR / "log", VAR / "tls"
PGDATA = VAR / "pgdata"
PY = sys.executable

HOST = "127.0.0.1"
PG_PORT, REDIS_PORT, SMTP_PORT, MAILBOX_HTTP_PORT = 5440, 6390, 1035, 8035
PORTAL_PORTS = (8441, 8442)
CERES_PORT = 8443
PORTALS = [f"https://{HOST}:{port}" for port in PORTAL_PORTS]
CERES_URL = f"https://{HOST}:{CERES_PORT}"
ISSUER = f"{PORTALS[0]}/o"
DATABASE_URL = f"postgres://postgres@{HOST}:{PG_PORT}/portail_prodlike"
CERES_DATABASE_URL = f"postgres://postgres@{HOST}:{PG_PORT}/ceres_prodlike"
REDIS_URL = f"redis://{HOST}:{REDIS_PORT}/0"
CERT, KEY = TLS / "cert.pem", TLS / "key.pem"
CERES_CLIENT_ID = "ceres-prodlike"
MAILBOX_DIR = VAR / "mailbox"


# --- configuration -------------------------------------------------------------------------------


def secrets_file() -> dict[str, str]:
    """Secrets drawn once, kept in var/prodlike/secrets.json (never in the repository)."""
    path = VAR / "secrets.json"
    if not path.exists():
        VAR.mkdir(parents=True, exist_ok=True)
        values = {
            name: secrets.token_urlsafe(48)
            for name in (
                "SECRET_KEY",
                "ALTCHA_HMAC_KEY",
                "CODE_HASH_KEY",
                "CERES_SECRET_KEY",
                "CERES_CLIENT_SECRET",
                "METRICS_TOKEN",
            )
        }
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return json.loads(path.read_text())


def redis_wanted() -> bool:
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    return shutil.which("redis-server") is not None


def portal_env() -> dict[str, str]:
    keys = secrets_file()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portail.settings.prod",
        "PYTHONUNBUFFERED": "1",
        "PORTAIL_VAR_DIR": str(VAR / "portail"),
        "DATABASE_URL": DATABASE_URL,
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "PORTAL_BASE_URL": PORTALS[0],
        "OIDC_ISSUER": ISSUER,
        "OIDC_RSA_PRIVATE_KEY_FILE": str(TLS / "oidc.pem"),
        "EMAIL_HOST": HOST,
        "EMAIL_PORT": str(SMTP_PORT),
        # The load test's client stands for the reverse proxy: it says who the person is.
        "TRUSTED_PROXY_COUNT": "1",
        # The anti-robot proof-of-work at a test cost (the load test solves it for real).
        "ALTCHA_MAX_NUMBER": os.environ.get("ALTCHA_MAX_NUMBER", "1000"),
        # Retries a few seconds apart: the SMTP fault lasts seconds, not hours.
        "OUTBOX_RETRY_BASE_SECONDS": os.environ.get("OUTBOX_RETRY_BASE_SECONDS", "2"),
        # An email left "sending" by a killed worker goes again after 30 s, not 10 minutes: the
        # fault scripts wait for it (still well above EMAIL_TIMEOUT, 10 s per SMTP step).
        "OUTBOX_STALE_CLAIM_SECONDS": os.environ.get("OUTBOX_STALE_CLAIM_SECONDS", "30"),
        "METRICS_TOKEN": keys["METRICS_TOKEN"],
        "SECRET_KEY": keys["SECRET_KEY"],
        "ALTCHA_HMAC_KEY": keys["ALTCHA_HMAC_KEY"],
        "CODE_HASH_KEY": keys["CODE_HASH_KEY"],
        "LOG_FORMAT": "structured",
        "STATIC_COMPRESS": "0",  # see collect_static
    }
    env.pop("REDIS_URL", None)
    if redis_wanted():
        env["REDIS_URL"] = REDIS_URL
    return env


def ceres_env() -> dict[str, str]:
    keys = secrets_file()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ceres.settings.prod",
        "PYTHONUNBUFFERED": "1",
        "CERES_VAR_DIR": str(VAR / "ceres"),
        "CERES_DATABASE_URL": CERES_DATABASE_URL,
        "CERES_ALLOWED_HOSTS": f"{HOST},localhost",
        "CERES_SECRET_KEY": keys["CERES_SECRET_KEY"],
        "CERES_OIDC_ISSUER": ISSUER,
        "CERES_OIDC_CLIENT_ID": CERES_CLIENT_ID,
        "CERES_OIDC_CLIENT_SECRET": keys["CERES_CLIENT_SECRET"],
        # CERES calls the portal's token endpoint over https: trust the local certificate.
        "REQUESTS_CA_BUNDLE": str(CERT),
        "LOG_FORMAT": "structured",
        "STATIC_COMPRESS": "0",
    }


def gunicorn(app: str, port: int, name: str) -> list[str]:
    return [
        PY,
        "-m",
        "gunicorn",
        app,
        "--workers",
        "2",
        "--bind",
        f"{HOST}:{port}",
        "--certfile",
        str(CERT),
        "--keyfile",
        str(KEY),
        "--max-requests",
        "2000",
        "--max-requests-jitter",
        "200",
        "--graceful-timeout",
        "10",
        "--config",
        "python:portail.metrics.gunicorn",
        "--pid",
        str(RUN / f"{name}.gunicorn.pid"),
        "--no-control-socket",  # one per instance would collide in the same home folder
    ]


def processes() -> dict[str, tuple[list[str], dict[str, str]]]:
    """The application processes the supervisor keeps running: name → (command, environment)."""
    portal, ceres = portal_env(), ceres_env()
    procs: dict[str, tuple[list[str], dict[str, str]]] = {
        "mailbox": (
            [
                PY,
                "-m",
                "portail.devtools.mailbox",
                "--dir",
                str(MAILBOX_DIR),
                "--smtp-port",
                str(SMTP_PORT),
                "--http-port",
                str(MAILBOX_HTTP_PORT),
            ],
            dict(os.environ),
        ),
    }
    for i, port in enumerate(PORTAL_PORTS, start=1):
        env = {**portal, "PROMETHEUS_MULTIPROC_DIR": str(VAR / "metrics" / f"portal-{i}")}
        procs[f"portal-{i}"] = (gunicorn("portail.wsgi", port, f"portal-{i}"), env)
    procs["ceres"] = (gunicorn("ceres.wsgi", CERES_PORT, "ceres"), ceres)
    for i in (1, 2):
        procs[f"email-{i}"] = (
            [PY, "manage.py", "run_email_worker", "--interval", "0.5"],
            portal,
        )
    return procs


# --- PostgreSQL and Redis of their own -----------------------------------------------------------


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else name


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def pg_ctl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        as_postgres([pg_bin("pg_ctl"), "-D", str(PGDATA), *args]),
        check=False,
        capture_output=True,
    )


def start_postgres() -> None:
    if not (PGDATA / "PG_VERSION").exists():
        PGDATA.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(PGDATA, "postgres", "postgres")
        subprocess.run(
            as_postgres([pg_bin("initdb"), "-D", str(PGDATA), "-U", "postgres", "--auth=trust"]),
            check=True,
            capture_output=True,
        )
    if pg_ctl("status").returncode == 0:
        return
    log = LOG / "postgresql.log"
    if os.geteuid() == 0:
        log.touch()
        shutil.chown(log, "postgres", "postgres")
    options = f"-p {PG_PORT} -c listen_addresses={HOST} -c unix_socket_directories='' "
    result = pg_ctl("start", "-w", "-l", str(log), "-o", options)
    if result.returncode != 0:
        sys.exit(f"PostgreSQL did not start: {result.stderr.decode()}{log.read_text()[-2000:]}")


def restart_postgres() -> None:
    """For the fault scripts: a fast restart (open connections are cut)."""
    pg_ctl("restart", "-m", "fast", "-w", "-l", str(LOG / "postgresql.log"))


def stop_postgres() -> None:
    pg_ctl("stop", "-m", "fast", "-w")


def create_databases() -> None:
    import psycopg

    with psycopg.connect(f"postgres://postgres@{HOST}:{PG_PORT}/postgres", autocommit=True) as db:
        for name in ("portail_prodlike", "ceres_prodlike"):
            if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                db.execute(f'CREATE DATABASE "{name}"')


def start_redis() -> None:
    if not redis_wanted():
        return
    subprocess.run(
        [
            "redis-server",
            "--bind",
            HOST,
            "--port",
            str(REDIS_PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            str(RUN / "redis.pid"),
            "--logfile",
            str(LOG / "redis.log"),
        ],
        check=True,
    )
    for _ in range(50):
        if redis_up():
            return
        time.sleep(0.1)
    sys.exit("Redis did not start")


def redis_up() -> bool:
    ping = subprocess.run(
        ["redis-cli", "-h", HOST, "-p", str(REDIS_PORT), "ping"], capture_output=True, check=False
    )
    return ping.stdout.strip() == b"PONG"


def stop_redis() -> None:
    if redis_up():
        subprocess.run(
            ["redis-cli", "-h", HOST, "-p", str(REDIS_PORT), "shutdown", "nosave"],
            capture_output=True,
            check=False,
        )


# --- set-up --------------------------------------------------------------------------------------


def make_keys() -> None:
    TLS.mkdir(parents=True, exist_ok=True)
    if not CERT.exists():
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "365",
                "-subj",
                f"/CN={HOST}",
                "-addext",
                f"subjectAltName=IP:{HOST},DNS:localhost",
                "-keyout",
                str(KEY),
                "-out",
                str(CERT),
            ],
            check=True,
            capture_output=True,
        )
    if not (TLS / "oidc.pem").exists():
        subprocess.run(
            ["openssl", "genrsa", "-out", str(TLS / "oidc.pem"), "2048"],
            check=True,
            capture_output=True,
        )


def manage(*args: str, ceres: bool = False) -> None:
    script = "ceres/manage.py" if ceres else "manage.py"
    env = ceres_env() if ceres else portal_env()
    started = time.monotonic()
    subprocess.run([PY, script, *args], cwd=ROOT, env=env, check=True)
    print(f"  {script} {args[0]}: {time.monotonic() - started:.1f} s", flush=True)


def newest_source() -> float:
    """When a static file of the repository, or a package (the lock file), last changed."""
    sources = [ROOT / "requirements.lock", Path(__file__)]
    for app in ("portail", "ceres", "dsfr_layout"):
        sources += [p for p in (ROOT / app).rglob("static/**/*") if p.is_file()]
    return max(p.stat().st_mtime for p in sources if p.exists())


def collect_static() -> None:
    """Both applications' collectstatic, side by side, when their files changed since the last."""
    newest = newest_source()
    jobs = []
    for script, env, manifest in (
        ("manage.py", portal_env(), VAR / "portail" / "static" / "staticfiles.json"),
        ("ceres/manage.py", ceres_env(), VAR / "ceres" / "ceres-static" / "staticfiles.json"),
    ):
        if manifest.exists() and manifest.stat().st_mtime > newest:
            continue
        command = [PY, script, "collectstatic", "--noinput", "--clear", "-v0"]
        jobs.append(subprocess.Popen(command, cwd=ROOT, env={**env, "STATIC_COMPRESS": "0"}))
    started = time.monotonic()
    if any(job.wait() for job in jobs):
        sys.exit("collectstatic failed")
    if jobs:
        print(f"  collectstatic: {time.monotonic() - started:.1f} s", flush=True)


def prepare() -> None:
    """Migrations, cache table, static files, CERES registered: what a release runs."""
    manage("migrate", "--noinput", "-v0")
    manage("createcachetable")
    manage("migrate", "--noinput", "-v0", ceres=True)
    collect_static()
    subprocess.run(
        [PY, "-m", "bench.load.seed", "--ceres-only"], cwd=ROOT, env=portal_env(), check=True
    )


# --- the supervisor ------------------------------------------------------------------------------


def pid_of(name: str) -> int | None:
    path = RUN / f"{name}.pid"
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def supervise() -> None:
    """Start every application process; start again any that exits; stop all on SIGTERM."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    specs = processes()
    running: dict[str, subprocess.Popen[bytes]] = {}

    def launch(name: str) -> None:
        command, env = specs[name]
        metrics = env.get("PROMETHEUS_MULTIPROC_DIR")
        if metrics:  # emptied at each start of the instance (prometheus-client's rule)
            shutil.rmtree(metrics, ignore_errors=True)
            Path(metrics).mkdir(parents=True)
        with (LOG / f"{name}.log").open("ab") as log:
            running[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        (RUN / f"{name}.pid").write_text(str(running[name].pid))

    for name in specs:
        launch(name)
    while not stopping:
        time.sleep(0.5)
        for name, process in list(running.items()):
            if process.poll() is None or stopping:
                continue
            if (RUN / f"{name}.hold").exists():
                continue
            print(f"{time.strftime('%H:%M:%S')} {name} exited ({process.returncode}): restarted")
            sys.stdout.flush()
            time.sleep(1)
            launch(name)
    for process in running.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in running.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    for name in running:
        (RUN / f"{name}.pid").unlink(missing_ok=True)


def wait_ready(timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    pending = [f"{url}/healthz" for url in PORTALS] + [f"{CERES_URL}/"]
    while pending and time.monotonic() < deadline:
        url = pending[0]
        with contextlib.suppress(requests.RequestException):
            answer = requests.get(url, verify=str(CERT), timeout=3, allow_redirects=False)
            if answer.status_code in (200, 302):  # CERES sends people to the portal
                pending.pop(0)
                continue
        time.sleep(0.3)
    if pending:
        sys.exit(f"Not ready after {timeout:.0f} s: {pending}; see {LOG}/")


# --- commands ------------------------------------------------------------------------------------


def start() -> None:
    for folder in (RUN, LOG, VAR / "portail", VAR / "ceres"):
        folder.mkdir(parents=True, exist_ok=True)
    if pid_of("supervisor"):
        print("Already running (python scripts/prodlike.py stop first).")
        return
    make_keys()
    start_postgres()
    start_redis()
    create_databases()
    prepare()
    with (LOG / "supervisor.log").open("ab") as log:
        supervisor = subprocess.Popen(
            [PY, str(Path(__file__).resolve()), "supervise"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `make`
        )
    (RUN / "supervisor.pid").write_text(str(supervisor.pid))
    wait_ready()
    keys = secrets_file()
    print(
        "\n".join(
            [
                (
                    "Production-shaped run ready (production settings, TLS, PostgreSQL, "
                    + ("Redis" if redis_wanted() else "database cache")
                    + "):"
                ),
                f"  portal      {PORTALS[0]}/  and  {PORTALS[1]}/  (2 gunicorn × 2 workers)",
                f"  CERES       {CERES_URL}/",
                f"  mailbox     http://{HOST}:{MAILBOX_HTTP_PORT}/  (SMTP {HOST}:{SMTP_PORT})",
                f"  PostgreSQL  {DATABASE_URL}",
                (
                    f"  metrics     curl --cacert {CERT.relative_to(ROOT)} -H 'Authorization: Bearer "
                    f"{keys['METRICS_TOKEN'][:6]}…' {PORTALS[0]}/metrics  (var/prodlike/secrets.json)"
                ),
                f"  certificate {CERT.relative_to(ROOT)} (self-signed)",
                f"  logs        {LOG.relative_to(ROOT)}/",
                "Stop it with: make prod-like-stop  (python scripts/prodlike.py stop)",
            ]
        )
    )


def stop() -> None:
    pid = pid_of("supervisor")
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if pid_of("supervisor") is None:
                break
            time.sleep(0.1)
        (RUN / "supervisor.pid").unlink(missing_ok=True)
    for hold in RUN.glob("*.hold"):
        hold.unlink()
    stop_redis()
    stop_postgres()
    print("Production-shaped run stopped.")


def status() -> None:
    names = ["supervisor", *processes()]
    for name in names:
        pid = pid_of(name)
        print(f"{name:12} {'running, pid ' + str(pid) if pid else 'stopped'}")
    print(f"{'postgresql':12} {'running' if pg_ctl('status').returncode == 0 else 'stopped'}")
    if redis_wanted():
        print(f"{'redis':12} {'running' if redis_up() else 'stopped'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "supervise"])
    command = parser.parse_args().command
    {"start": start, "stop": stop, "status": status, "supervise": supervise}[command]()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
