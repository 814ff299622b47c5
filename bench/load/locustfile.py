"""Mixed traffic against the production-shaped run (scripts/prodlike.py), for Locust, headless.
`python -m bench.load.run` starts it and prints the table; see bench/load/README.md.

Who comes: one user each for CERES' back channel exchanging codes and refreshing tokens, for
people signing up (anti-robot check solved as the browser does), and for gestionnaires inviting
someone who then accepts; every other user is a person who logs in, browses "Mes démarches" and
the management page, enters CERES through single sign-on, logs out and in again. Each person is spread over the two portal instances and
comes from an address of their own (X-Forwarded-For: the load balancer's header).

A page that answers 200 with the wrong content counts as a failure (`JourneyError`).
"""

import base64
import hashlib
import itertools
import os
import random
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

from locust import HttpUser, between, events, task

from bench.load import journeys
from bench.load.seed import PASSWORD, invitee_email, person_email
from portail.accounts.altcha import solve
from scripts import prodlike

CERT = str(prodlike.CERT)
PEOPLE = int(os.environ.get("LOAD_PEOPLE", "200"))
_people = itertools.count(random.randrange(PEOPLE))
# Each invitation goes to an invitee nobody invited yet (the runner says where to start).
_invitees = itertools.count(int(os.environ.get("LOAD_INVITEE_START", "0")))
# Addresses drawn afresh by each run: the per-address limits (sign-up) remember earlier runs.
_addresses = itertools.count(random.randrange(1, 1 << 23))
ROLE_RE = re.compile(r'name="role" value="(\d+)"')
SIRET_RE = re.compile(r'<option value="(\d{14})"')
KEY_RE = re.compile(r'name="submission_key" value="([^"]*)"')
PENDING_RE = re.compile(r'href="(/habilitations/invitations/en-attente/\d+/)"')


def client_address() -> str:
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class Person(HttpUser):
    """Someone with an account, on one of the two instances (sticky, as a load balancer's
    session affinity would be — the sessions are in the database anyway)."""

    abstract = True
    wait_time = between(1, 3)
    host = prodlike.PORTALS[0]

    def on_start(self) -> None:
        journeys.trusting(self.client, CERT)
        self.client.headers["X-Forwarded-For"] = client_address()
        self.portal = random.choice(prodlike.PORTALS)

    def step(self, name: str, check) -> None:  # type: ignore[no-untyped-def]
        """Run a journey step; a wrong page is a failure of its own kind in the table.

        A person sent back to the login page (their login failed during an outage) logs in
        again at their next step, as anybody would."""
        started = time.perf_counter()
        if getattr(self, "email", "") and getattr(self, "logged_out", False):
            self.logged_out = False
            self.step("login", lambda: self.login(self.email))
        try:
            check()
        except journeys.JourneyError as error:
            self.logged_out = True
            events.request.fire(
                request_type="CHECK",
                name=name,
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=error,
                context={},
            )

    def login(self, email: str) -> None:
        page = self.client.get(f"{self.portal}/", name="login form")
        response = journeys.post_form(
            self.client,
            page.url,
            page.text,
            {"email": email, "password": PASSWORD},
            name="login",
        )
        journeys.expect(response, "Mes démarches", "login")


class Gestionnaire(Person):
    weight = 8

    def on_start(self) -> None:
        super().on_start()
        self.email = person_email(next(_people) % PEOPLE)
        self.step("login", lambda: self.login(self.email))

    @task(6)
    def mes_demarches(self) -> None:
        self.step(
            "mes démarches",
            lambda: journeys.expect(
                self.client.get(f"{self.portal}/demarches/", name="mes démarches"),
                "CERES",
                "Mes démarches",
            ),
        )

    @task(3)
    def management_page(self) -> None:
        self.step(
            "gestion des habilitations",
            lambda: journeys.expect(
                self.client.get(f"{self.portal}/habilitations/ceres/", name="gestion"),
                "Gestion de la démarche",
                "management page",
            ),
        )

    @task(2)
    def enter_ceres(self) -> None:
        def sso() -> None:
            # A fresh CERES session each time: every visit goes through the single sign-on.
            for cookie in [c for c in self.client.cookies if c.name == "ceres_sessionid"]:
                self.client.cookies.clear(cookie.domain, cookie.path, cookie.name)
            response = self.client.get(f"{prodlike.CERES_URL}/", name="CERES via SSO")
            hops = " ".join(r.headers.get("Location", "") for r in response.history)
            if "/o/authorize/" not in hops:
                raise journeys.JourneyError("CERES did not go through single sign-on")
            journeys.expect(response, "Centre de charge", "CERES")

        self.step("CERES via SSO", sso)

    @task(1)
    def logout_and_back(self) -> None:
        def cycle() -> None:
            page = self.client.get(f"{self.portal}/demarches/", name="mes démarches")
            response = journeys.post_form(
                self.client, page.url, page.text, {}, action="/deconnexion/", name="logout"
            )
            journeys.expect(response, "Vous êtes déconnecté", "logout")
            self.login(self.email)

        self.step("logout and login", cycle)


class CeresBackChannel(Person):
    """What CERES' server does with the portal: authorization code with PKCE, token exchange,
    refreshes (rotation). The person's browser part is the portal session."""

    fixed_count = 1

    def on_start(self) -> None:
        super().on_start()
        self.email = person_email(next(_people) % PEOPLE)
        self.step("login", lambda: self.login(self.email))
        self.secret = prodlike.secrets_file()["CERES_CLIENT_SECRET"]
        self.refresh_token = ""
        self.authorization_code()  # then refreshes, as CERES does every few minutes

    def token(self, data: dict[str, str], name: str) -> dict[str, str]:
        response = self.client.post(
            f"{prodlike.ISSUER}/token/",
            data=data,
            auth=(prodlike.CERES_CLIENT_ID, self.secret),
            name=name,
        )
        if response.status_code != 200 or "access_token" not in response.text:
            raise journeys.JourneyError(f"{name}: HTTP {response.status_code}")
        return response.json()

    @task(1)
    def authorization_code(self) -> None:
        def flow() -> None:
            verifier = secrets.token_urlsafe(48)
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            redirect_uri = f"{prodlike.CERES_URL}/oidc/callback/"
            response = self.client.get(
                f"{prodlike.ISSUER}/authorize/",
                params={
                    "response_type": "code",
                    "client_id": prodlike.CERES_CLIENT_ID,
                    "redirect_uri": redirect_uri,
                    "scope": "openid email profile habilitations",
                    "state": secrets.token_urlsafe(16),
                    "nonce": secrets.token_urlsafe(16),
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
                allow_redirects=False,
                name="authorize",
            )
            code = parse_qs(urlsplit(response.headers.get("Location", "")).query).get("code")
            if response.status_code != 302 or not code:
                raise journeys.JourneyError(f"authorize: HTTP {response.status_code}, no code")
            tokens = self.token(
                {
                    "grant_type": "authorization_code",
                    "code": code[0],
                    "redirect_uri": redirect_uri,
                    "code_verifier": verifier,
                },
                "token (code)",
            )
            self.refresh_token = tokens["refresh_token"]

        self.step("token (code)", flow)

    @task(4)
    def refresh(self) -> None:
        if not self.refresh_token:
            return

        def flow() -> None:
            tokens = self.token(
                {"grant_type": "refresh_token", "refresh_token": self.refresh_token},
                "token (refresh)",
            )
            self.refresh_token = tokens["refresh_token"]

        self.step("token (refresh)", flow)


class Newcomer(Person):
    """Signs up as a private person: the page, the anti-robot challenge solved, the form."""

    fixed_count = 1
    wait_time = between(3, 6)

    @task
    def sign_up(self) -> None:
        def flow() -> None:
            self.client.headers["X-Forwarded-For"] = client_address()  # each one a new person
            page = self.client.get(
                f"{self.portal}/inscription/?type=particulier", name="signup form"
            )
            challenge = self.client.get(
                f"{self.portal}/inscription/anti-robot/", name="signup challenge"
            )
            email = f"nouveau-{secrets.token_hex(6)}@exemple.fr"
            response = journeys.post_form(
                self.client,
                page.url,
                page.text,
                {
                    "account_type": "particulier",
                    "email": email,
                    "password1": PASSWORD,
                    "password2": PASSWORD,
                    "civilite": "MME",
                    "last_name": "Nouvelle",
                    "first_name": "Claude",
                    "phone": "06 12 34 56 78",
                    "action": "create",
                    "altcha": solve(challenge.json()),
                },
                name="signup",
            )
            journeys.expect(
                response, "Un message d'activation de compte vous a été envoyé", "signup"
            )

        self.step("signup", flow)


class Inviter(Person):
    """A gestionnaire invites an invitee by address; the invitee logs in, finds the invitation in
    "Mes démarches" and accepts it."""

    fixed_count = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.email = person_email(next(_people) % PEOPLE)
        self.step("login", lambda: self.login(self.email))

    @task
    def invite_and_accept(self) -> None:
        def flow() -> None:
            invitee = invitee_email(next(_invitees))
            url = f"{self.portal}/habilitations/ceres/inviter/"
            page = self.client.get(url, name="invite form")
            role, siret, key = (
                ROLE_RE.search(page.text),
                SIRET_RE.search(page.text),
                KEY_RE.search(page.text),
            )
            if not (role and siret and key):
                raise journeys.JourneyError("invite form: no role, SIRET or key")
            response = journeys.post_form(
                self.client,
                page.url,
                page.text,
                {
                    "action": "continue",
                    "user_query": "",
                    "user": "",
                    "email": invitee,
                    "role": role.group(1),
                    "establishment": siret.group(1),
                    "submission_key": key.group(1),
                },
                name="invite",
            )
            journeys.expect(response, "Gestion de la démarche", "invite")
            # The invitee, in a browser of their own.
            other = journeys.trusting(type(self.client)(self.portal, events.request, self), CERT)
            other.headers["X-Forwarded-For"] = client_address()
            login_page = other.get(f"{self.portal}/", name="login form")
            mine = journeys.post_form(
                other,
                login_page.url,
                login_page.text,
                {"email": invitee, "password": PASSWORD},
                name="login",
            )
            pending = PENDING_RE.search(mine.text)
            if not pending:
                raise journeys.JourneyError("the invitation is not in Mes démarches")
            invitation = other.get(f"{self.portal}{pending.group(1)}", name="invitation")
            accepted = journeys.post_form(
                other,
                invitation.url,
                invitation.text,
                {"decision": "accept"},
                name="accept invitation",
            )
            journeys.expect(accepted, "Vous avez désormais accès", "accept invitation")

        self.step("invite and accept", flow)
