"""CERES as a real server for the tests: `ceres/manage.py runserver` in a subprocess.

CERES is a second Django project: it cannot share the test process (one settings module per
process). It gets its own SQLite file and its OpenID Connect endpoints on the portal's live
server; the test registers it as a client with the credentials given here.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "ceres-test"
CLIENT_SECRET = "ceres-test-secret-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CeresServer:
    def __init__(self, portal_url: str, workdir: Path, **extra_env: str):
        self.portal_url = portal_url.rstrip("/")
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.callback_url = f"{self.url}/oidc/callback/"
        self.logged_out_url = f"{self.url}/deconnexion/terminee/"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ceres.settings.test",
            "CERES_DATABASE_URL": f"sqlite:///{workdir / 'ceres.sqlite3'}",
            "CERES_VAR_DIR": str(workdir),
            "CERES_OIDC_ISSUER": f"{self.portal_url}/o",
            "CERES_OIDC_CLIENT_ID": CLIENT_ID,
            "CERES_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
        self.env.pop("DATABASE_URL", None)
        self.process: subprocess.Popen | None = None
        self.log = workdir / "ceres-server.log"

    def start(self) -> "CeresServer":
        manage = str(ROOT / "ceres" / "manage.py")
        subprocess.run(
            [sys.executable, manage, "migrate", "--noinput", "-v0"],
            env=self.env,
            cwd=ROOT,
            check=True,
            timeout=120,
        )
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, manage, "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"CERES stopped at start-up:\n{self.log.read_text()}")
            try:
                requests.get(f"{self.url}/connexion/echec/", timeout=2)
                return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("CERES did not start within 60 seconds")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
