"""Benchmark of the portal's login: what one worker process can do, and what the hash costs.

Prints, in one run:

1. argon2id verifications per second alone, at our parameters (settings: 19 MiB, 2 iterations,
   1 lane — OWASP) and at Keycloak's (7 MiB, 5 iterations, 1 lane);
2. logins per second through the real login view, called through the WSGI application as
   gunicorn calls it (POST "/" with its CSRF token: every middleware, form, rate-limit slots taken
   and given back, authenticate, new session key, session row written, last_login, audit event,
   redirect),
   in this one process, with our parameters;
3. the ratio of (2) to (1) at our parameters. Target: at least 80 %;
4. full logins with a second factor, beside the password-only one: password then a TOTP code
   computed as an app does (two requests), and a passkey alone ("Se connecter avec une clé
   d'accès": options, then the signed assertion of a software authenticator standing in for
   the device — its ECDSA signature is counted in this process's CPU, about 0.1 ms).
   A TOTP code serves once per 30-second step and account: the run cycles through a pool of
   accounts, each with its own app.

(2) is the login of a returning browser (it presents its device cookie); a login from a browser
new to the account (journalled and emailed: portail/accounts/user_sessions.py) is printed apart.

    .venv/bin/python bench/login.py                 # about 15 seconds
    .venv/bin/python bench/login.py --seconds 10    # longer runs, steadier figures
    .venv/bin/python bench/login.py --db postgres://postgres@127.0.0.1:5432/portail_bench_login
    REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/login.py   # cache, limits in Redis

The database is a fresh SQLite file under var/bench/, or the PostgreSQL database given (migrated;
the benchmark account is created anew). The measures are interleaved (hash, hash, login, in turns)
so that a change of load on a shared machine weighs on all of them; the CPU-time figures (this
process's CPU seconds) are the steadier ones there. Never part of the test suite.
"""

import argparse
import io
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "Une phrase de passe de banc d'essai"
EMAIL = "banc.essai@exemple.fr"
KEYCLOAK = {"time_cost": 5, "memory_cost": 7 * 1024, "parallelism": 1}


def setup_django(db_url: str | None) -> None:
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    if db_url is None:
        db_file = bench_dir / "login.sqlite3"
        db_file.unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The benchmark measures the production parameters, whatever the environment module says.
    settings.ARGON2_TIME_COST = 2
    settings.ARGON2_MEMORY_COST_KIB = 19 * 1024
    settings.ARGON2_PARALLELISM = 1
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False  # as in production: no query log kept in memory
    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)


def interleaved(actions: dict, seconds: float, rounds: int = 4) -> dict:
    """Measure each action in turns (`rounds` slices each), so that a change of machine load
    during the run weighs on all of them alike. Returns {name: (wall rate, cpu rate, count)}."""
    totals = {name: [0.0, 0.0, 0] for name in actions}  # wall seconds, cpu seconds, calls
    for action in actions.values():
        action()  # warm-up
    for _ in range(rounds):
        for name, action in actions.items():
            count = 0
            start, cpu_start = time.perf_counter(), time.process_time()
            while time.perf_counter() - start < seconds / rounds:
                action()
                count += 1
            totals[name][0] += time.perf_counter() - start
            totals[name][1] += time.process_time() - cpu_start
            totals[name][2] += count
    return {n: (c / w, c / cpu, c) for n, (w, cpu, c) in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measure")
    parser.add_argument("--db", default=None, help="DATABASE_URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    setup_django(args.db)

    from argon2 import PasswordHasher, Type
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from portail.accounts.models import User
    from portail.audit.models import AuditEvent

    ours = {
        "time_cost": settings.ARGON2_TIME_COST,
        "memory_cost": settings.ARGON2_MEMORY_COST_KIB,
        "parallelism": settings.ARGON2_PARALLELISM,
    }
    print(f"Login benchmark — one process, database {settings.DATABASES['default']['ENGINE']}")
    print(f"cores: {os.cpu_count()}, measure: {args.seconds:.0f} s each, interleaved\n")

    User.objects.filter(email=EMAIL).delete()
    user = User.objects.create_user(EMAIL, PASSWORD, email_verified_at="2026-01-01T00:00:00Z")
    assert user.password.startswith(
        f"argon2$argon2id$v=19$m={ours['memory_cost']},t={ours['time_cost']},p=1$"
    )

    app = WSGIHandler()  # what gunicorn calls: every middleware, the view, the session write

    def call(
        method: str, body: bytes = b"", cookie: str = "", path: str = "/"
    ) -> tuple[str, list, bytes]:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1:8000",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "HTTP_COOKIE": cookie,
        }
        answer: list = []
        result = app(
            environ, lambda status, headers, exc_info=None: answer.extend([status, headers])
        )
        content = b"".join(result)
        result.close()
        return answer[0], answer[1], content

    # The login form once, for its CSRF cookie and token, as a browser would.
    _status, headers, page = call("GET")
    csrf_cookie = next(
        v.strip().split(";")[0]
        for k, v in headers
        if k == "Set-Cookie" and v.strip().startswith("csrftoken=")
    )
    csrf_token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    body = urlencode(
        {"email": EMAIL, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token}
    ).encode()

    def login_with(cookie: str) -> list:
        status, headers, _content = call("POST", body, cookie)
        if not status.startswith("302"):  # pragma: no cover - the benchmark would lie
            raise SystemExit(f"login failed: {status}")
        return headers

    # A first login gives the browser its device cookie ("Mes sessions et appareils"): the
    # measured logins are those of a returning browser, as most are. No session cookie: a new
    # session row (and its index row) is written each time.
    browser_cookie = next(
        v.strip().split(";")[0]
        for k, v in login_with(csrf_cookie)
        if k == "Set-Cookie" and v.strip().startswith("portail_navigateur=")
    )

    def one_login():
        login_with(f"{csrf_cookie}; {browser_cookie}")

    def new_browser_login():
        # Without the device cookie: a new browser for the account, journalled and emailed.
        login_with(csrf_cookie)

    actions = {}
    params = {"ours (OWASP)": ours, "Keycloak": KEYCLOAK}
    for label, p in params.items():
        hasher = PasswordHasher(type=Type.ID, **p)
        encoded = hasher.hash(PASSWORD)
        actions[label] = lambda h=hasher, e=encoded: h.verify(e, PASSWORD)
    actions["login"] = one_login
    actions["new browser"] = new_browser_login
    actions["login + TOTP"] = totp_login(call, csrf_cookie, csrf_token)
    actions["passkey alone"] = passkey_login(call, csrf_cookie, csrf_token)

    events_before = AuditEvent.objects.filter(action="account.login", actor=user).count()
    results = interleaved(actions, args.seconds)
    events = AuditEvent.objects.filter(action="account.login", actor=user).count() - events_before
    logins = results["login"][2] + results["new browser"][2]
    assert events == logins + 2, (events, logins)  # and one warm-up each

    print(f"{'':52s} {'per second':>10s} {'per CPU-s':>10s} {'runs':>5s}")
    for label, p in params.items():
        wall, cpu, count = results[label]
        name = (
            f"argon2id verify, {label}: m={p['memory_cost'] // 1024} MiB "
            f"t={p['time_cost']} p={p['parallelism']}"
        )
        print(f"{name:52s} {wall:10.1f} {cpu:10.1f} {count:5d}")
    wall, cpu, count = results["login"]
    print(
        f"{'login through the view (POST /, session written)':52s} {wall:10.1f} {cpu:10.1f} {count:5d}"
    )
    new_wall, new_cpu, new_count = results["new browser"]
    print(
        f"{'login from a new browser (journalled, emailed)':52s} {new_wall:10.1f} {new_cpu:10.1f}"
        f" {new_count:5d}"
    )
    for label, name in (
        ("login + TOTP", "login, password then TOTP code (2 requests)"),
        ("passkey alone", "login with a passkey alone (2 requests)"),
    ):
        two_wall, two_cpu, two_count = results[label]
        print(f"{name:52s} {two_wall:10.1f} {two_cpu:10.1f} {two_count:5d}")
    hash_wall, hash_cpu, _ = results["ours (OWASP)"]
    print(
        f"\nlogin rate / hash-only rate at our parameters: {wall / hash_wall:.0%} (wall clock), "
        f"{cpu / hash_cpu:.0%} (CPU time) — target at least 80 %"
    )
    print(
        f"a login costs {1000 / cpu:.1f} ms of CPU, of which {1000 / hash_cpu:.1f} ms hashing "
        f"and {1000 / cpu - 1000 / hash_cpu:.1f} ms everything else"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")


def _session_cookie(headers: list, csrf_cookie: str) -> str:
    session = next(
        v.strip().split(";")[0]
        for k, v in headers
        if k == "Set-Cookie" and v.strip().startswith("sessionid=")
    )
    return f"{csrf_cookie}; {session}"


def totp_login(call, csrf_cookie: str, csrf_token: str):
    """A full login with a TOTP code, over a pool of accounts (one code per step each)."""
    from django.contrib.auth.hashers import make_password
    from django_otp.oath import totp

    from portail.accounts import mfa
    from portail.accounts.models import User

    encoded = make_password(PASSWORD)
    User.objects.filter(email__startswith="banc.totp.").delete()
    pool = []
    for n in range(600):
        user = User.objects.create(
            email=f"banc.totp.{n}@exemple.fr",
            password=encoded,
            email_verified_at="2026-01-01T00:00:00Z",
        )
        key = mfa.new_totp_key()
        mfa.add_totp(user, key, f"{totp(bytes.fromhex(key), drift=-1):06d}", "Banc")
        pool.append([user.email, bytes.fromhex(key), -1])  # email, key, last step used
    turn = iter(range(10**9))

    def one() -> None:
        step = int(time.time()) // 30
        for _ in range(len(pool)):
            account = pool[next(turn) % len(pool)]
            if account[2] < step:
                break
        else:  # pragma: no cover - every account used in this step: wait for the next one
            time.sleep(30 - time.time() % 30)
            return
        email, key, account[2] = account[0], account[1], step
        body = urlencode({"email": email, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token})
        status, headers, _ = call("POST", body.encode(), csrf_cookie)
        if not status.startswith("302"):  # pragma: no cover
            raise SystemExit(f"password step failed: {status}")
        cookie = _session_cookie(headers, csrf_cookie)
        code = f"{totp(key):06d}"
        form = urlencode({"code": code, "csrfmiddlewaretoken": csrf_token}).encode()
        status, _headers, _ = call("POST", form, cookie, "/connexion/verification/")
        if not status.startswith("302"):  # pragma: no cover
            raise SystemExit(f"TOTP step failed: {status}")

    return one


def passkey_login(call, csrf_cookie: str, csrf_token: str):
    """A full login with a passkey alone, a software authenticator answering."""
    import json

    from django.conf import settings

    from portail.accounts import passkeys
    from portail.accounts.models import User
    from tests.accounts.soft_authenticator import SoftAuthenticator

    settings.WEBAUTHN_RP_ID, settings.WEBAUTHN_ORIGIN = "127.0.0.1", "http://127.0.0.1:8000"
    User.objects.filter(email="banc.cle@exemple.fr").delete()
    user = User.objects.create_user(
        "banc.cle@exemple.fr", PASSWORD, email_verified_at="2026-01-01T00:00:00Z"
    )
    device = SoftAuthenticator(rp_id="127.0.0.1", origin="http://127.0.0.1:8000")
    options, challenge = passkeys.registration_options(user)
    passkeys.add_passkey(user, device.create(json.loads(options)), challenge, "Banc")
    token = urlencode({"csrfmiddlewaretoken": csrf_token}).encode()

    def one() -> None:
        status, headers, content = call(
            "POST", token, csrf_cookie, "/cle-d-acces/passwordless/options/"
        )
        cookie = _session_cookie(headers, csrf_cookie)
        answer = device.get(json.loads(content))
        body = urlencode({"credential": answer, "csrfmiddlewaretoken": csrf_token}).encode()
        status, _headers, content = call("POST", body, cookie, "/cle-d-acces/passwordless/")
        if not status.startswith("200") or b"redirect" not in content:  # pragma: no cover
            raise SystemExit(f"passkey login failed: {status} {content[:200]!r}")

    return one


if __name__ == "__main__":
    main()
