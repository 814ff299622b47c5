"""What a person does on the portal and CERES, over plain HTTP (a `requests.Session`, or Locust's
`HttpSession`, which is one): the load test, the restore check and the fault scripts share it.

Each step checks what the person would see and raises `JourneyError` otherwise, so that a page
that answers 200 with the wrong content counts as a failure.
"""

import html
import re
from typing import Any
from urllib.parse import urljoin

import requests

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class JourneyError(AssertionError):
    pass


def csrf_of(page: str) -> str:
    match = CSRF_RE.search(page)
    if not match:
        raise JourneyError("no CSRF token in the page")
    return match.group(1)


def expect(response: requests.Response, expected: str, what: str) -> requests.Response:
    if response.status_code >= 400:
        raise JourneyError(f"{what}: HTTP {response.status_code} at {response.url}")
    if expected not in html.unescape(response.text):
        raise JourneyError(f"{what}: {expected!r} not in {response.url}")
    return response


def post_form(
    session: requests.Session, page_url: str, page: str, data: dict[str, str], **kw: Any
) -> requests.Response:
    """Submit a form of `page` (fetched at `page_url`) the way a browser does: its CSRF token, and
    the Referer that Django's CSRF check requires over https."""
    target = kw.pop("action", page_url)
    headers = {"Referer": page_url, **kw.pop("headers", {})}
    return session.post(
        urljoin(page_url, target),
        data={"csrfmiddlewaretoken": csrf_of(page), **data},
        headers=headers,
        **kw,
    )


def portal_login(
    session: requests.Session, portal: str, email: str, password: str, **kw: Any
) -> requests.Response:
    """Log in on the home page; land on "Mes démarches"."""
    page = session.get(f"{portal}/", **kw)
    expect(page, "Connectez-vous", "login page")
    response = post_form(session, page.url, page.text, {"email": email, "password": password}, **kw)
    return expect(response, "Mes démarches", "login")


def mes_demarches(session: requests.Session, portal: str, **kw: Any) -> requests.Response:
    return expect(session.get(f"{portal}/demarches/", **kw), "Mes démarches", "Mes démarches")


def portal_logout(session: requests.Session, portal: str, **kw: Any) -> requests.Response:
    page = session.get(f"{portal}/demarches/", **kw)
    response = post_form(session, page.url, page.text, {}, action="/deconnexion/", **kw)
    return expect(response, "Vous êtes déconnecté", "logout")


def enter_ceres(
    session: requests.Session, ceres: str, expected: str = "CERES", **kw: Any
) -> requests.Response:
    """Open CERES with a portal session: CERES → the portal's /o/authorize/ → CERES' callback
    (the code exchanged for tokens over the back channel) → CERES' page."""
    response = session.get(f"{ceres}/", **kw)
    if "/o/authorize/" not in " ".join(r.headers.get("Location", "") for r in response.history):
        raise JourneyError("CERES did not go through the portal's single sign-on")
    return expect(response, expected, "CERES")


def trusting(session: requests.Session, certificate: str) -> requests.Session:
    """Trust the run's self-signed certificate, whatever REQUESTS_CA_BUNDLE says (the
    environment's bundle would otherwise win over `session.verify`)."""
    session.verify = certificate
    session.trust_env = False
    return session
