"""The pages people wait for, measured from outside: the portal and CERES under gunicorn.

    .venv/bin/python bench/pages.py                    # SQLite under var/bench/pages/, ~2 minutes
    .venv/bin/python bench/pages.py --rounds 300       # steadier figures
    .venv/bin/python bench/pages.py --postgres postgres://postgres@127.0.0.1:5432/bench_pages
    .venv/bin/python bench/pages.py --redis redis://127.0.0.1:6379/15   # cache in Redis
    BENCH_CALLGRIND=var/bench/callgrind .venv/bin/python bench/pages.py --rounds 5 --warmup 2
                                    # + instructions per request under callgrind (CPU meaningless)

As an operator runs them: the production settings (`portail.settings.prod`, `ceres.settings.prod`,
static files collected), each application one gunicorn sync worker, both pinned to one core, the
client (this process) pinned to another; argon2id at Keycloak's parameters (5 iterations, 7 MiB).
The data are made by the project's factories in a throw-away database (a fresh SQLite file, or
the PostgreSQL database named, dropped and created anew; CERES always on its own SQLite file).

For every page and every step it prints the worker's CPU time per request (median and mean: the
worker's own clock, read by bench/gunicorn_hooks.py between the end of one request and the end
of the next, so parsing and writing the answer count), the mean part of it the garbage collector
took, the wall time the client saw (p50, p95)
and the SQL statements Django sent. Then the sums the targets of issue 16 are about: a full
password login (home page, POST, "Mes démarches") beyond the hash, and a single sign-on entry into
CERES (both applications together, and the code exchange's statements). The client sends one
request at a time: wall times are service times, not queueing. Never part of the test suite.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import Browser, Gunicorn, collect_static, percentile, pin, proc_cpu_seconds  # noqa: E402

PASSWORD = "Une phrase de passe de banc d'essai 2026"
KEYCLOAK = {"ARGON2_TIME_COST": "5", "ARGON2_MEMORY_COST_KIB": str(7 * 1024)}
CERES_CLIENT_ID = "ceres-bench"
CERES_CLIENT_SECRET = "ceres-bench-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
BIG = 5_000
TARGETS = {"page": 5.0, "manage_5000": 15.0, "login_beyond_hash": 8.0, "sso": 15.0, "exchange": 6}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="requests measured per step")
    parser.add_argument("--warmup", type=int, default=10, help="requests per step not counted")
    parser.add_argument("--postgres", metavar="URL", help="the portal on this PostgreSQL database")
    parser.add_argument("--redis", metavar="URL", help="REDIS_URL of the portal (its cache)")
    parser.add_argument("--server-core", type=int, default=0, help="core of both workers")
    parser.add_argument("--client-core", type=int, default=1, help="core of this client")
    return parser.parse_args()


def rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def environments(args: argparse.Namespace, workdir: Path, portal_port: int, ceres_port: int):
    """The environment of each application, as an operator would set it."""
    database = args.postgres or f"sqlite:///{workdir / 'portail.sqlite3'}"
    portal = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portail.settings.prod",
        "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        "ALTCHA_HMAC_KEY": "bench-altcha-key",
        "CODE_HASH_KEY": "bench-code-hash-key",
        "OIDC_RSA_PRIVATE_KEY": rsa_pem(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database,
        "PORTAIL_VAR_DIR": str(workdir),
        "PORTAL_BASE_URL": f"https://127.0.0.1:{portal_port}",
        "OIDC_ISSUER": f"http://127.0.0.1:{portal_port}/o",
        # CERES calls the token, userinfo and JWKS endpoints on the plain local port; browsers'
        # requests carry X-Forwarded-Proto: https, as behind the TLS proxy.
        "SECURE_SSL_REDIRECT": "false",
        **KEYCLOAK,
    }
    portal.pop("REDIS_URL", None)
    if args.redis:
        portal["REDIS_URL"] = args.redis
    ceres = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "ceres.settings.prod",
        "CERES_SECRET_KEY": "bench-ceres-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
        "CERES_DATABASE_URL": f"sqlite:///{workdir / 'ceres.sqlite3'}",
        "CERES_VAR_DIR": str(workdir),
        "CERES_ALLOWED_HOSTS": "127.0.0.1",
        "CERES_OIDC_ISSUER": f"http://127.0.0.1:{portal_port}/o",
        "CERES_OIDC_CLIENT_ID": CERES_CLIENT_ID,
        "CERES_OIDC_CLIENT_SECRET": CERES_CLIENT_SECRET,
    }
    return portal, ceres


def prepare_portal(args: argparse.Namespace, env: dict[str, str], ceres_url: str) -> dict:
    """Migrate, collect static files and make the data, in this process (then forgotten)."""
    os.environ.update(env)
    if args.postgres:
        import psycopg

        base, name = args.postgres.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    step = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    print(f"  portal migrated in {time.perf_counter() - step:.0f} s")
    step = time.perf_counter()
    people = seed(ceres_url)
    print(f"  data in {time.perf_counter() - step:.0f} s")
    return people


def seed(ceres_url: str) -> dict:
    """The people of the pages measured; their email addresses by role."""
    from django.db import transaction
    from django.utils import timezone

    from portail.accounts.models import User
    from portail.demarches.catalogue import CERES, install_catalogue
    from portail.demarches.models import Demarche, Role
    from portail.habilitations.models import Habilitation
    from portail.oidc.clients import register_demarche_client
    from tests.factories import DemarcheFactory, RoleFactory, make_siren, make_siret
    from tests.habilitations.factories import company, habilitate, person

    install_catalogue(Demarche, Role)
    ceres = Demarche.objects.get(code=CERES)
    centre = ceres.roles.get(code="centre-agree")
    manager = ceres.roles.get(code="gestionnaire-centres")
    register_demarche_client(
        actor=None,
        demarche=ceres,
        redirect_uris=[f"https://{urlsplit(ceres_url).netloc}/oidc/callback/"],
        client_id=CERES_CLIENT_ID,
        client_secret=CERES_CLIENT_SECRET,
    )
    # The gestionnaires sign in with a password only: CERES' second-factor rule (requires_mfa,
    # decision 0015) is lifted here as in bench/load/seed.py, or their pages would lead to the
    # enrolment. Logins with a second factor: bench/login.py.
    Demarche.objects.filter(pk=ceres.pk).update(
        url=f"https://{urlsplit(ceres_url).netloc}/", requires_mfa=False
    )

    def someone(email: str, first: str, establishment=None):
        user = person(first, "Banc", establishment, email=email)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        return user

    someone("zero@banc.fr", "Zoé")
    (small_head, small_site) = company(11, name="PETIT CENTRE")
    one = someone("une@banc.fr", "Unice", small_head)
    habilitate(one, centre, small_head)
    many = someone("vingt@banc.fr", "Vingtine", small_head)
    habilitate(many, centre, small_head)
    for _ in range(19):
        role = RoleFactory(demarche=DemarcheFactory())
        habilitate(many, role, small_head)
    small = someone("gestion5@banc.fr", "Gaston", small_head)
    habilitate(small, manager, small_head, origin=Habilitation.Origin.ACTIVATION_CODE)
    for n in range(2):
        colleague = person(f"Collègue{'AB'[n]}", "Banc", small_site, email=f"c{n}@petit.fr")
        habilitate(colleague, centre, small_site)

    # The company of 5,000: bulk rows, unusable passwords (no hashing).
    siren = make_siren(77)
    (big_head, *_sites) = company(77, name="GRAND CENTRE", sites=3)
    big = someone("gestion5000@banc.fr", "Gabrielle", big_head)
    habilitate(big, manager, big_head, origin=Habilitation.Origin.ACTIVATION_CODE)
    now = timezone.now()
    people = [
        User(
            email=f"p{i}@grand-centre.fr",
            password="!",
            first_name=f"Prénom{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}",
            last_name=f"Nom{chr(65 + i // 676 % 26)}{chr(65 + i % 7)}",
            account_type=User.AccountType.PROFESSIONNEL,
            declared_siren=siren,
            declared_siret=make_siret(siren, 1),
            email_verified_at=now,
            date_joined=now,
        )
        for i in range(BIG - 1)
    ]
    sites = [big_head, *_sites]
    with transaction.atomic():
        User.objects.bulk_create(people, batch_size=1000)
        ids = User.objects.filter(declared_siren=siren).exclude(pk=big.pk).values_list("pk")
        Habilitation.objects.bulk_create(
            [
                Habilitation(
                    user_id=pk,
                    demarche=ceres,
                    role=centre,
                    establishment=sites[k % 3],
                    origin=Habilitation.Origin.INVITATION,
                    granted_by=big,
                )
                for k, (pk,) in enumerate(ids)
            ],
            batch_size=1000,
        )
    return {"zero": "zero@banc.fr", "one": one.email, "twenty": many.email}


def prepare_ceres(env: dict[str, str]) -> None:
    manage = str(ROOT / "ceres" / "manage.py")
    subprocess.run([sys.executable, manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    collect_static(env)


class Run:
    """The client's side: each request's wall time by step; the servers log the rest."""

    def __init__(self, portal: Gunicorn, ceres: Gunicorn):
        self.portal, self.ceres = portal, ceres
        self.wall: dict[str, list[float]] = defaultdict(list)
        self.last_url = ""

    def get(self, browser: Browser, url: str, step: str, expect: int = 200, **kw):
        response, elapsed = browser.request("GET", url, step, **kw)
        self.last_url = url
        self.check(response, step, expect)
        self.wall[step].append(elapsed)
        return response

    def post(self, browser: Browser, url: str, step: str, fields: dict, expect: int = 302):
        response, elapsed = browser.request("POST", url, step, body=urlencode(fields).encode())
        self.check(response, step, expect)
        self.wall[step].append(elapsed)
        return response

    @staticmethod
    def check(response, step: str, expect: int) -> None:
        if response.status != expect:  # pragma: no cover - the benchmark would lie
            raise SystemExit(f"{step}: {response.status}, expected {expect}\n{response.body[:500]}")

    def login(self, email: str, step: str = "") -> Browser:
        browser = Browser()
        home = self.get(browser, f"{self.portal.url}/", f"{step}home")
        fields = {
            "email": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.csrf_token(home.body),
        }
        answer = self.post(browser, f"{self.portal.url}/", f"{step}login", fields)
        assert answer.header("Location").endswith("/demarches/"), answer.header("Location")
        return browser

    def login_cycle(self, email: str, prefix: str) -> None:
        browser = self.login(email, prefix)
        self.get(browser, f"{self.portal.url}/demarches/", f"{prefix}mes_demarches_0")

    def sso(self, portal_browser: Browser, prefix: str) -> None:
        """Into CERES with a fresh CERES session and the portal's session already open."""
        browser = portal_browser  # one browser: the portal's cookies and a fresh CERES jar
        browser.cookies.pop(urlsplit(self.ceres.url).netloc, None)
        answer = self.get(browser, f"{self.ceres.url}/", f"{prefix}sso_tile", 302)
        if "/oidc/authenticate/" in answer.header("Location"):  # CERES before it sent straight
            answer = self.follow(browser, answer, f"{prefix}sso_authenticate", 302)
        answer = self.follow(browser, answer, f"{prefix}sso_authorize", 302)
        if "code=" not in answer.header("Location"):  # pragma: no cover
            raise SystemExit(f"no code: {answer.header('Location')}")
        answer = self.follow(browser, answer, f"{prefix}sso_callback", 302)
        self.follow(browser, answer, f"{prefix}sso_landing", 200)

    def follow(self, browser: Browser, answer, step: str, expect: int):
        """The redirect's target; https://host:port/… is the local server behind that name."""
        parts = urlsplit(urljoin(self.last_url, answer.header("Location")))
        location = f"http://{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return self.get(browser, location, step, expect)


def main() -> int:
    args = parse_args()
    workdir = ROOT / "var" / "bench" / "pages"
    # Everything anew but the collected static files (collectstatic only adds what changed).
    for old in workdir.glob("*"):
        if old.name not in ("static", "ceres-static"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    workdir.mkdir(parents=True, exist_ok=True)
    portal = Gunicorn("portal", "portail.wsgi:application", {}, workdir, args.server_core)
    ceres = Gunicorn("ceres", "ceres.wsgi:application", {}, workdir, args.server_core)
    portal_env, ceres_env = environments(args, workdir, portal.port, ceres.port)
    portal.env.update(portal_env)
    ceres.env.update(ceres_env)
    started = time.perf_counter()
    people = prepare_portal(args, portal_env, ceres.url)
    step = time.perf_counter()
    collect_static(portal_env)
    prepare_ceres(ceres_env)
    print(f"  CERES migrated, static files of both in {time.perf_counter() - step:.0f} s")
    print(f"Prepared in {time.perf_counter() - started:.0f} s")
    hash_ms = hash_cost()
    portal.start()
    ceres.start()
    pin(args.client_core)
    try:
        return measure(args, portal, ceres, people, hash_ms)
    finally:
        portal.stop()
        ceres.stop()


def hash_cost() -> float:
    """CPU milliseconds of one argon2id verification at the parameters the portal runs with."""
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(type=Type.ID, time_cost=5, memory_cost=7 * 1024, parallelism=1)
    encoded = hasher.hash(PASSWORD)
    hasher.verify(encoded, PASSWORD)
    start = time.process_time()
    for _ in range(20):
        hasher.verify(encoded, PASSWORD)
    return (time.process_time() - start) / 20 * 1000


def measure(args, portal: Gunicorn, ceres: Gunicorn, people: dict, hash_ms: float) -> int:
    run = Run(portal, ceres)
    sessions = {name: run.login(email, "setup:") for name, email in people.items()}
    gestion5 = run.login("gestion5@banc.fr", "setup:")
    gestion5000 = run.login("gestion5000@banc.fr", "setup:")
    pages = [
        ("mes_demarches_1", sessions["one"], "/demarches/"),
        ("mes_demarches_20", sessions["twenty"], "/demarches/"),
        ("mon_compte", sessions["one"], "/mon-compte/"),
        ("manage_5", gestion5, "/habilitations/ceres/"),
        ("manage_5000", gestion5000, "/habilitations/ceres/"),
        ("invite_form", gestion5, "/habilitations/ceres/inviter/"),
    ]
    worker = portal.worker_pid()
    ceres_worker = ceres.worker_pid()
    for rounds, prefix in ((args.warmup, "warmup:"), (args.rounds, "")):
        cpu_before = proc_cpu_seconds(worker)
        for _ in range(rounds):
            run.login_cycle(people["zero"], prefix)
        login_proc = (proc_cpu_seconds(worker) - cpu_before) / max(rounds, 1) * 1000
        for _ in range(rounds):
            for step, browser, path in pages:
                run.get(browser, f"{portal.url}{path}", f"{prefix}{step}")
        cpu_before = proc_cpu_seconds(worker) + proc_cpu_seconds(ceres_worker)
        for _ in range(rounds):
            run.sso(sessions["one"], prefix)
        sso_proc = (
            (proc_cpu_seconds(worker) + proc_cpu_seconds(ceres_worker) - cpu_before)
            / max(rounds, 1)
            * 1000
        )
    time.sleep(0.5)  # the hooks write after the answer is sent
    return report(
        args, portal, ceres, run, hash_ms=hash_ms, login_proc=login_proc, sso_proc=sso_proc
    )


def records(server: Gunicorn) -> list[dict]:
    lines = [json.loads(line) for line in server.request_log.read_text().splitlines()]
    for line, count in zip(lines, instructions(server), strict=False):
        line["instructions"] = count
    return lines


def instructions(server: Gunicorn) -> list[int]:
    """Under BENCH_CALLGRIND, each request window's instructions, in the order of the log: the
    worker's n-th dump is its n-th request (bench/gunicorn_hooks.py)."""
    folder = os.environ.get("BENCH_CALLGRIND")
    if not folder:
        return []
    dumps = sorted(
        Path(folder).glob(f"{server.name}.*.*"), key=lambda p: int(p.name.rsplit(".", 1)[1])
    )
    counts = []
    for dump in dumps:
        with dump.open() as text:
            summary = next(line for line in text if line.startswith("summary:"))
        counts.append(int(summary.split()[1]))
    return counts


def report(args, portal, ceres, run: Run, *, hash_ms: float, login_proc: float, sso_proc: float):
    lines = []
    for server in (portal, ceres):
        # A démarche's own calls to the portal (token, JWKS, userinfo) carry no step: they
        # belong to the sign-on step before them, warm-up or measured.
        prefix = ""
        for r in records(server):
            if r["step"].startswith("sso_"):
                prefix = ""
            elif r["step"].startswith("warmup:"):
                prefix = "warmup:"
            elif " /o/" in r["step"]:
                r["step"] = prefix + r["step"]
            lines.append(r)
    measured = [r for r in lines if not r["step"].startswith(("setup:", "warmup:"))]
    by_step: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in measured:
        by_step[(r["app"], r["step"])].append(r)
    engine = "PostgreSQL" if args.postgres else "SQLite"
    cache = "Redis" if args.redis else "database"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Pages — production settings, gunicorn 1 sync worker per application on core "
        f"{args.server_core}, client on core {args.client_core}; portal on {engine}, cache "
        f"{cache}; {args.rounds} requests per step; load average {load}"
    )
    counted = any("instructions" in r for r in measured)
    header = (
        f"{'step':<34} {'app':<6} {'n':>4} {'CPU p50':>8} {'CPU mean':>9} {'GC mean':>8} "
        f"{'wall p50':>9} {'wall p95':>9} {'queries':>8}" + (f" {'Minstr p50':>10}" * counted)
    )
    print(header)
    print("-" * len(header))
    order = [
        "home",
        "login",
        "mes_demarches_0",
        "mes_demarches_1",
        "mes_demarches_20",
        "mon_compte",
        "manage_5",
        "manage_5000",
        "invite_form",
        "sso_tile",
        "sso_authenticate",
        "sso_authorize",
        "sso_callback",
        "sso_landing",
    ]
    keys = sorted(
        by_step,
        key=lambda k: (order.index(k[1]) if k[1] in order else 9, k[0] != "portal", k[1]),
    )
    cpu_mean: dict[str, float] = {}
    for app, step in keys:
        rows = by_step[(app, step)]
        cpu = [r["cpu"] * 1000 for r in rows]
        gc_ms = [r.get("gc", 0.0) * 1000 for r in rows]
        queries = sorted({r["queries"] for r in rows})
        wall = [w * 1000 for w in run.wall.get(step, [])]
        wall_part = (
            f"{statistics.median(wall):9.2f} {percentile(wall, 95):9.2f}"
            if wall and step in order
            else f"{'(in callback)':>19}"
        )
        query_part = "/".join(str(q) for q in queries[:3]) + ("…" if len(queries) > 3 else "")
        counts = [r["instructions"] / 1e6 for r in rows if "instructions" in r]
        print(
            f"{step:<34} {app:<6} {len(rows):>4} {statistics.median(cpu):8.2f} "
            f"{statistics.fmean(cpu):9.2f} {statistics.fmean(gc_ms):8.2f} {wall_part} "
            f"{query_part:>8}" + (f" {statistics.median(counts):10.2f}" if counts else "")
        )
        cpu_mean[f"{app}:{step}"] = statistics.fmean(cpu)
    print()
    login = sum(cpu_mean[f"portal:{s}"] for s in ("home", "login", "mes_demarches_0"))
    print(
        f"Password login, full cycle (home + POST + Mes démarches): {login:.1f} ms of worker CPU "
        f"(by /proc: {login_proc:.1f} ms); argon2id at Keycloak's parameters {hash_ms:.1f} ms; "
        f"beyond the hash {login - hash_ms:.1f} ms (target <= {TARGETS['login_beyond_hash']:.0f})"
    )
    sso_rounds = len(by_step[("ceres", "sso_landing")]) or 1
    portal_sso = (
        sum(
            statistics.fsum(r["cpu"] for r in by_step[k])
            for k in by_step
            if k[0] == "portal"
            if k[1].startswith("sso_") or " /o/" in k[1]
        )
        / sso_rounds
        * 1000
    )
    ceres_sso = (
        sum(statistics.fsum(r["cpu"] for r in by_step[k]) for k in by_step if k[0] == "ceres")
        / sso_rounds
        * 1000
    )
    exchange = by_step.get(("portal", "POST /o/token/"), [])
    exchange_queries = sorted({r["queries"] for r in exchange})
    print(
        f"Single sign-on into CERES, per entry: portal {portal_sso:.1f} ms + CERES {ceres_sso:.1f}"
        f" ms = {portal_sso + ceres_sso:.1f} ms of worker CPU (by /proc: {sso_proc:.1f} ms; "
        f"target < {TARGETS['sso']:.0f}); code exchange {exchange_queries} statements "
        f"(target <= {TARGETS['exchange']})"
    )
    wall_sso = [
        sum(run.wall[s][i] for s in order[9:] if run.wall.get(s)) * 1000
        for i in range(len(run.wall["sso_landing"]))
    ]
    print(
        f"  wall per entry (the browser's requests): p50 {statistics.median(wall_sso):.1f} ms,"
        f" p95 {percentile(wall_sso, 95):.1f} ms"
    )
    over = [
        f"{app}:{step}"
        for app, step in keys
        if step in order[:9]
        and statistics.median(r["cpu"] * 1000 for r in by_step[(app, step)])
        >= (TARGETS["manage_5000"] if step == "manage_5000" else TARGETS["page"])
        and step != "login"
    ]
    print(f"Pages over their median CPU target (5 ms; 15 ms for manage_5000): {over or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
