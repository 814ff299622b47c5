"""The pages of bench/pages.py, timed and profiled inside one process: what a change buys, before
the bench's servers (which a shared machine's load blurs) confirm it.

    .venv/bin/python bench/pages.py --rounds 5          # once: makes var/bench/pages/
    .venv/bin/python bench/inprocess.py home,mon_compte # median CPU per request (30 each)
    N=50 PROF=cumulative TOP=60 .venv/bin/python bench/inprocess.py manage_5   # and a cProfile
    .venv/bin/python bench/inprocess.py login_post showsql                     # its statements
    .venv/bin/python bench/inprocess.py mes_demarches_20 sqltime   # each statement's own time
    CALLGRIND=1 CALLGRIND_OUT=/tmp/cg N=10 valgrind --tool=callgrind \
        --callgrind-out-file=/tmp/cg/callgrind.out.%p .venv/bin/python bench/inprocess.py hash,login_post
                                               # instructions a request (login_post less hash)

Production settings, a copy of the bench's SQLite database (PG=postgres://… for another
database, REDIS=redis://… for the cache), Django's test client, `time.process_time()` around each
request. To compare two versions of the code, run it from each worktree alternately, twice. Never
part of the test suite.
"""

import cProfile
import gc
import os
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
work = ROOT / "var" / "bench" / "inprocess"
work.mkdir(parents=True, exist_ok=True)
src = ROOT / "var" / "bench" / "pages"
if not os.environ.get("PG"):
    if not (src / "portail.sqlite3").exists():
        raise SystemExit("No var/bench/pages/portail.sqlite3: run bench/pages.py (SQLite) first.")
    shutil.copy(src / "portail.sqlite3", work / "portail.sqlite3")
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

# One key for every run, kept beside the database: drawing one costs a varying number of
# instructions (its prime search), which would blur a count of instructions under callgrind.
key_file = work / "oidc-key.pem"
if not key_file.exists():
    key_file.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "portail.settings.prod",
        "SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        "ALTCHA_HMAC_KEY": "x",
        "CODE_HASH_KEY": "bench-code-hash-key",
        "OIDC_RSA_PRIVATE_KEY": key_file.read_text(),
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DATABASE_URL": f"sqlite:///{work / 'portail.sqlite3'}",
        "PORTAIL_VAR_DIR": str(src),
        "PORTAL_BASE_URL": "https://127.0.0.1:8000",
        "OIDC_ISSUER": "http://127.0.0.1:8000/o",
        "SECURE_SSL_REDIRECT": "false",
        "ARGON2_TIME_COST": "5",
        "ARGON2_MEMORY_COST_KIB": str(7 * 1024),
        "LOG_LEVEL": "WARNING",
    }
)
if os.environ.get("PG"):
    os.environ["DATABASE_URL"] = os.environ["PG"]
os.environ.pop("REDIS_URL", None)
if os.environ.get("REDIS"):
    os.environ["REDIS_URL"] = os.environ["REDIS"]
import django  # noqa: E402

django.setup()
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

PASSWORD = "Une phrase de passe de banc d'essai 2026"
H = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_HOST": "127.0.0.1"}
_C = Client(**H)


def fresh():
    import copy
    from http.cookies import SimpleCookie

    c = copy.copy(_C)
    c.cookies = SimpleCookie()
    return c


def login(email):
    c = fresh()
    r = c.get("/")
    assert r.status_code == 200, r.status_code
    r = c.post("/", {"email": email, "password": PASSWORD})
    assert r.status_code == 302, (r.status_code, r.content[:3000])
    return c


def steps():
    zero = login("zero@banc.fr")
    one = login("une@banc.fr")
    twenty = login("vingt@banc.fr")
    g5 = login("gestion5@banc.fr")
    g5000 = login("gestion5000@banc.fr")
    anon = fresh()

    def full():
        c = fresh()
        c.get("/")
        c.post("/", {"email": "zero@banc.fr", "password": PASSWORD})
        c.get("/demarches/")

    def post_login():
        c = fresh()
        c.post("/", {"email": "zero@banc.fr", "password": PASSWORD})

    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    from portail.accounts.models import User

    app = Application.objects.get(client_id="ceres-bench")
    AccessToken.objects.create(
        user=User.objects.get(email="une@banc.fr"),
        application=app,
        token="bench-userinfo-token-0123456789",
        expires=timezone.now() + timedelta(hours=1),
        scope="openid email profile phone habilitations",
    )
    from django.contrib.auth.hashers import check_password

    encoded = User.objects.get(email="zero@banc.fr").password
    return {
        # The password's hash alone: what callgrind's count of a login less this is beyond it.
        "hash": lambda: check_password(PASSWORD, encoded),
        "userinfo": lambda: anon.get(
            "/o/userinfo/", HTTP_AUTHORIZATION="Bearer bench-userinfo-token-0123456789"
        ),
        "home": lambda: anon.get("/"),
        "legal_notice": lambda: anon.get("/mentions-legales/"),
        "healthz": lambda: anon.get("/healthz"),
        "jwks": lambda: anon.get("/o/.well-known/jwks.json"),
        "login_post": post_login,
        "mes_demarches_0": lambda: zero.get("/demarches/"),
        "mes_demarches_1": lambda: one.get("/demarches/"),
        "mes_demarches_20": lambda: twenty.get("/demarches/"),
        "mon_compte": lambda: one.get("/mon-compte/"),
        "manage_5": lambda: g5.get("/habilitations/ceres/"),
        "manage_5000": lambda: g5000.get("/habilitations/ceres/"),
        "invite_form": lambda: g5.get("/habilitations/ceres/inviter/"),
    }


def _time_the_hash() -> list[float]:
    """The password hash's own CPU, summed in the list's one item, so that a login's time beyond
    it can be read apart from it."""
    import argon2._password_hasher

    spent = [0.0]
    verify = argon2._password_hasher.verify_secret

    def timed_verify(*args, **kwargs):
        started = time.process_time()
        try:
            return verify(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - started

    argon2._password_hasher.verify_secret = timed_verify
    return spent


def main() -> None:
    """Time (and profile) the steps named on the command line."""
    steps_ = steps()
    which = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] != "all" else list(steps_)
    n = int(os.environ.get("N", "30"))
    prof = os.environ.get("PROF")
    # The garbage collector's share of the timed requests, by generation collected.
    gc_time: dict = {"t": 0.0, "n": [0, 0, 0], "start": 0.0}

    def _gc_clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_time["start"] = time.process_time()
        else:
            gc_time["t"] += time.process_time() - gc_time["start"]
            gc_time["n"][info["generation"]] += 1

    gc.callbacks.append(_gc_clock)
    hash_time = _time_the_hash()
    for name in which:
        f = steps_[name]
        for _ in range(5):
            f()
        times = []
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as q:
            f()
        nq = len(q.captured_queries)
        _dump(name, f)
        # Read now: the connection's log is a bounded deque the timed loop below rotates.
        captured = [x["sql"] for x in q.captured_queries]
        if "sqltime" in sys.argv:
            for sql in captured:
                started = time.perf_counter()
                for _ in range(50):
                    with connection.cursor() as cursor:
                        cursor.execute(sql.replace("%", "%%"))
                        cursor.fetchall()
                print(f"    {(time.perf_counter() - started) * 20:.3f} ms  {sql[:100]}", flush=True)
        if "showsql" in sys.argv:
            for x in q.captured_queries:
                print("   ", x["sql"][:300], flush=True)
        if prof:
            pr = cProfile.Profile()
            pr.enable()
        marks.zero()
        gc_time["t"], gc_time["n"] = 0.0, [0, 0, 0]
        beyond = []
        for _ in range(n):
            hash_time[0] = 0.0
            t = time.process_time()
            f()
            times.append((time.process_time() - t) * 1000)
            beyond.append(times[-1] - hash_time[0] * 1000)
        marks.dump(name, n)
        if prof:
            pr.disable()
            pr.dump_stats(str(work / "last.prof"))
            st = pstats.Stats(pr)
            st.sort_stats(prof)
            st.print_stats(int(os.environ.get("TOP", "40")))
        print(
            f"{name:20} median {statistics.median(times):7.2f} ms  min {min(times):7.2f}  queries {nq}"
            f"  gc {gc_time['t'] * 1000 / n:.2f} ms/request, collections by generation {gc_time['n']}"
        )
        _print_beyond_the_hash(times, beyond)
        if os.environ.get("SHOWSQL"):
            for sql in captured:
                print("   ", sql[:300])


class _Callgrind:
    """Under `valgrind --tool=callgrind` (CALLGRIND=1), the instructions of each step's timed loop
    alone: counts zeroed before it and dumped after it by callgrind's client requests (a small
    library built here), then read back and printed per request. Deterministic where the clock
    is not: the way to compare two versions on a shared machine."""

    SOURCE = (
        "#include <valgrind/callgrind.h>\n"
        "void zero(void) { CALLGRIND_ZERO_STATS; }\n"
        "void dump(const char *s) { CALLGRIND_DUMP_STATS_AT(s); }\n"
    )

    def __init__(self) -> None:
        self.lib = None
        if not os.environ.get("CALLGRIND"):
            return
        import ctypes
        import subprocess

        c, so = work / "marks.c", work / "marks.so"
        if not so.exists():
            c.write_text(self.SOURCE)
            subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(so), str(c)], check=True)
        self.lib = ctypes.CDLL(str(so))
        self.lib.dump.argtypes = [ctypes.c_char_p]

    def zero(self) -> None:
        if self.lib is not None:
            self.lib.zero()

    def dump(self, name: str, n: int) -> None:
        if self.lib is None:
            return
        self.lib.dump(f"step-{name}".encode())
        out = os.environ.get("CALLGRIND_OUT", ".")
        newest = max(Path(out).glob("callgrind.out.*"), key=lambda path: path.stat().st_mtime)
        text = newest.read_text(errors="replace")
        if f"step-{name}" not in text:
            return
        summary = next(
            line for line in text.splitlines() if line.startswith(("summary:", "totals:"))
        )
        total = int(summary.split()[1])
        print(f"{name:20} instructions {total / n:,.0f} a request (callgrind, {n} requests)")


marks = _Callgrind()


def _dump(name: str, step) -> None:
    """The page's bytes, to compare two versions' (DUMP=dir)."""
    if os.environ.get("DUMP"):
        Path(os.environ["DUMP"]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ["DUMP"]) / f"{name}.html").write_bytes(step().content)


def _print_beyond_the_hash(times: list[float], beyond: list[float]) -> None:
    if min(times) - min(beyond) > 0.5:  # a step that hashes a password
        print(
            f"{'':20} beyond the hash: median {statistics.median(beyond):7.2f} ms"
            f"  min {min(beyond):7.2f}"
        )


if __name__ == "__main__":
    main()
