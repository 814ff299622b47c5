"""The single sign-on into CERES timed inside one process, step by step: what a change buys
before the bench's servers (which a shared machine's load blurs) confirm it.

    .venv/bin/python bench/pages.py --rounds 5      # once: makes var/bench/pages/
    .venv/bin/python bench/sso_inprocess.py         # the portal's: authorize, token, userinfo
    .venv/bin/python bench/sso_inprocess.py ceres   # CERES' steps, the portal served by gunicorn
    N=50 PROF=token TOP=60 .venv/bin/python bench/sso_inprocess.py        # and a cProfile
    CALLS=1 .venv/bin/python bench/sso_inprocess.py ceres                  # function calls per step
    SHOWSQL=1 .venv/bin/python bench/sso_inprocess.py                       # each step's statements

Production settings, copies of the bench's databases (PG=postgres://… for the portal's),
Django's test client, `time.process_time()` around each request: the portal's mode runs the
requests a sign-in makes of the portal (the browser's authorization, the démarche's code
exchange, and userinfo, which CERES no longer asks but other démarches may) in this process; CERES' mode runs CERES here (the tile, the redirect to
the portal, the callback with its code exchange and userinfo, the landing page) and the portal in
a gunicorn worker of its own, whose time is not counted. To compare two versions of the code, run
it from each worktree alternately, twice. Never part of the test suite.
"""

import base64
import cProfile
import hashlib
import os
import pstats
import secrets
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from harness import Browser, Gunicorn  # noqa: E402
from pages import CERES_CLIENT_ID, CERES_CLIENT_SECRET, PASSWORD, rsa_pem  # noqa: E402

MODE = sys.argv[1] if len(sys.argv) > 1 else "portal"
N = int(os.environ.get("N", "30"))
PROF = os.environ.get("PROF", "")
WORK = ROOT / "var" / "bench" / "sso-inprocess"
SRC = ROOT / "var" / "bench" / "pages"
CERES_HOST = "127.0.0.1:8001"  # the callback's host name: CERES is not listening, only named
REDIRECT_URI = f"https://{CERES_HOST}/oidc/callback/"
SCOPE = "openid email profile phone habilitations"
EMAIL = "une@banc.fr"


def portal_env(database: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "portail.settings.prod",
        "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        "ALTCHA_HMAC_KEY": "x",
        "CODE_HASH_KEY": "bench-code-hash-key",
        "OIDC_RSA_PRIVATE_KEY": rsa_pem(),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DATABASE_URL": os.environ.get("PG") or database,
        "PORTAIL_VAR_DIR": str(SRC),
        "PORTAL_BASE_URL": "https://127.0.0.1:8000",
        "SECURE_SSL_REDIRECT": "false",
        "ARGON2_TIME_COST": "5",
        "ARGON2_MEMORY_COST_KIB": str(7 * 1024),
        "LOG_LEVEL": "WARNING",
    }


def prepare_portal_database() -> str:
    """A copy of the bench's portal database whose CERES client returns to REDIRECT_URI."""
    WORK.mkdir(parents=True, exist_ok=True)
    if os.environ.get("PG"):
        return os.environ["PG"]
    if not (SRC / "portail.sqlite3").exists():
        raise SystemExit("No var/bench/pages/portail.sqlite3: run bench/pages.py (SQLite) first.")
    target = WORK / "portail.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(SRC / "portail.sqlite3") as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    with sqlite3.connect(target) as db:
        db.execute(
            "UPDATE oauth2_provider_application SET redirect_uris = ? WHERE client_id = ?",
            (REDIRECT_URI, CERES_CLIENT_ID),
        )
    return f"sqlite:///{target}"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_query(challenge: str) -> str:
    return urlencode(
        {
            "response_type": "code",
            "client_id": CERES_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )


def code_of(location: str) -> str:
    found = parse_qs(urlsplit(location).query).get("code")
    if not found:
        raise SystemExit(f"no code: {location}")
    return found[0]


class Timer:
    """CPU time per step (ms), the statements of one request of each, a profile of one step."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.queries: dict[str, int] = {}
        # CPU time, as the timings: the wait for the other application is not its cost.
        self.profile = cProfile.Profile(time.process_time) if PROF else None
        self.measuring = False
        # Function calls per request of each step (cProfile's count: load does not change it).
        self.calls: dict[str, cProfile.Profile] | None = {} if os.environ.get("CALLS") else None

    def __call__(self, step: str, call):  # type: ignore[no-untyped-def]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        if self.measuring and step not in self.queries:
            with CaptureQueriesContext(connection) as captured:
                answer = call()
            self.queries[step] = len(captured.captured_queries)
            if os.environ.get("SHOWSQL"):
                print(f"== {step}")
                for query in captured.captured_queries:
                    print("   ", query["sql"][:300])
            return answer
        if self.calls is not None and self.measuring:
            counter = self.calls.setdefault(step, cProfile.Profile())
            counter.enable()
            answer = call()
            counter.disable()
            self.times.setdefault(step, []).append(0.0)
            return answer
        profiled = self.profile is not None and self.measuring and step == PROF
        if profiled:
            self.profile.enable()
        start = time.process_time()
        answer = call()
        elapsed = (time.process_time() - start) * 1000
        if profiled:
            self.profile.disable()
        if self.measuring:
            self.times.setdefault(step, []).append(elapsed)
        return answer

    def report(self, title: str) -> None:
        total = 0.0
        print(title)
        for step, values in self.times.items():
            median = statistics.median(values)
            total += median
            if self.calls is not None:
                calls = pstats.Stats(self.calls[step]).total_calls / len(values)  # type: ignore[attr-defined]
                print(f"  {step:22} {calls:9.0f} calls  queries {self.queries.get(step, '?')}")
                continue
            print(
                f"  {step:22} median {median:7.2f} ms  min {min(values):7.2f}"
                f"  queries {self.queries.get(step, '?')}"
            )
        print(f"  {'sum of medians':22}        {total:7.2f} ms")
        if self.profile is not None:
            self.profile.dump_stats(str(WORK / f"{PROF}.prof"))
            stats = pstats.Stats(self.profile)
            stats.sort_stats(os.environ.get("SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("TOP", "40")))


def _warm_then_measure(entry: Callable[[], None], timer: Timer, title: str) -> None:
    """Five entries to warm the caches, then N + 1 measured (the first only fills the timer)."""
    for _ in range(5):
        entry()
    timer.measuring = True
    for _ in range(N + 1):
        entry()
    timer.report(title)


def run_portal() -> None:
    os.environ.update(portal_env(prepare_portal_database()))
    import django

    django.setup()
    from django.test import Client

    headers = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "127.0.0.1"}
    browser = Client(**headers)
    response = browser.get("/")
    response = browser.post("/", {"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    ceres = Client(**headers)
    basic = base64.b64encode(f"{CERES_CLIENT_ID}:{CERES_CLIENT_SECRET}".encode()).decode()
    timer = Timer()

    def entry() -> None:
        verifier, challenge = pkce()
        answer = timer(
            "authorize", lambda: browser.get(f"/o/authorize/?{authorize_query(challenge)}")
        )
        assert answer.status_code == 302, (answer.status_code, answer.content[:500])
        code = code_of(answer["Location"])
        fields = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
        answer = timer(
            "token",
            # Form-encoded, as CERES (requests) sends it; the test client's default is multipart.
            lambda: ceres.post(
                "/o/token/",
                urlencode(fields),
                content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=f"Basic {basic}",
            ),
        )
        assert answer.status_code == 200, answer.content[:500]
        access = answer.json()["access_token"]
        answer = timer(
            "userinfo",
            lambda: ceres.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {access}"),
        )
        assert answer.status_code == 200, answer.content[:500]

    _warm_then_measure(entry, timer, f"Portal's steps of the sign-on, in-process ({N} entries)")


def run_ceres() -> None:
    """CERES here, the portal in a gunicorn worker on a copy of the bench's database."""
    database = prepare_portal_database()
    env = {**os.environ, **portal_env(database)}
    portal = Gunicorn("sso-portal", "portail.wsgi:application", env, WORK, None)
    portal.env["OIDC_ISSUER"] = f"{portal.url}/o"
    portal.start()
    try:
        measure_ceres(portal)
    finally:
        portal.stop()


def measure_ceres(portal: Gunicorn) -> None:
    ceres_db = WORK / "ceres.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ceres_db}{suffix}").unlink(missing_ok=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "ceres.settings.prod",
            "CERES_SECRET_KEY": "bench-ceres-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCD",
            "CERES_DATABASE_URL": f"sqlite:///{ceres_db}",
            "CERES_VAR_DIR": str(SRC),
            "CERES_ALLOWED_HOSTS": "127.0.0.1",
            "CERES_OIDC_ISSUER": f"{portal.url}/o",
            "CERES_OIDC_CLIENT_ID": CERES_CLIENT_ID,
            "CERES_OIDC_CLIENT_SECRET": CERES_CLIENT_SECRET,
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    person = Browser()  # the person's browser at the portal
    home, _ = person.request("GET", f"{portal.url}/", "setup:home")
    fields = {
        "email": EMAIL,
        "password": PASSWORD,
        "csrfmiddlewaretoken": person.csrf_token(home.body),
    }
    answer, _ = person.request("POST", f"{portal.url}/", "setup:login", urlencode(fields).encode())
    assert answer.status == 302, answer.status
    timer = Timer()
    # One client (each new one builds the middleware anew: whitenoise scans the static files),
    # a fresh cookie jar per entry: a fresh CERES session each time.
    browser = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST=CERES_HOST)

    def entry() -> None:
        browser.cookies = SimpleCookie()
        answer = timer("tile", lambda: browser.get("/"))
        assert answer.status_code == 302, answer.status_code
        location = answer["Location"]
        if location.startswith("/oidc/authenticate/"):  # CERES before it sent straight
            answer = timer("authenticate", lambda: browser.get(location))
            assert answer.status_code == 302, answer.status_code
        parts = urlsplit(answer["Location"])
        at_portal, _ = person.request("GET", f"{portal.url}{parts.path}?{parts.query}", "authorize")
        assert at_portal.status == 302, (at_portal.status, at_portal.body[:500])
        back = urlsplit(at_portal.header("Location"))
        answer = timer("callback", lambda: browser.get(f"{back.path}?{back.query}"))
        assert answer.status_code == 302, (answer.status_code, answer.content[:500])
        landing = answer["Location"]
        answer = timer("landing", lambda: browser.get(landing))
        assert answer.status_code == 200, (answer.status_code, answer.content[:500])

    _warm_then_measure(
        entry,
        timer,
        f"CERES' steps of the sign-on, in-process ({N} entries; the portal's time apart)",
    )


if __name__ == "__main__":
    run_ceres() if MODE == "ceres" else run_portal()
