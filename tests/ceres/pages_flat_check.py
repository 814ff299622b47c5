"""Run in a CERES process (tests/ceres/test_pages_flat.py): CERES' pages rendered through their
flattened chain of templates (dsfr_layout.kept_extends) are the same bytes as through Django's
block context, apart from the CSRF token's mask; names with <, & and quotes."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django

django.setup()

from django.contrib.auth.models import AnonymousUser, User  # noqa: E402
from django.template import engines  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from dsfr_layout import kept_extends  # noqa: E402

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
NAME = "Zoé <b>& \"Al\" 'x'"
ROLE = {"label": "Gestionnaire <&>", "ends_on": "31/12/2026", "gestionnaire": True}
SITE = {"name": "Site <1> & 'a'", "siret": "12345678901234", "address": 'rue "A" & <B>'}
ESTABLISHMENT = {
    "name": "Centre <Ö> & 'c'",
    "siret": "90310000600019",
    "siret_display": "903 100 006 00019",
    "address": "1 rue <x>",
    "commune": "Lille & <Nord>",
    "roles": [ROLE],
}
SUSPENDED = {"name": "Centre <s>", "siret": "1", "reason_label": "Suspendu & <x>", "role": ROLE}
PAGES = [
    (
        "ceres/home.html",
        {
            "person": NAME,
            "establishment": ESTABLISHMENT,
            "roles": [ROLE, ROLE],
            "sites": [SITE],
            "is_gestionnaire": True,
            "can_change": True,
            "management_url": "https://p/?a=1&b=<2>",
        },
    ),
    (
        "ceres/home.html",
        {
            "person": "",
            "establishment": {"name": "", "siret": ""},
            "roles": [],
            "sites": [],
            "is_gestionnaire": False,
            "can_change": False,
        },
    ),
    ("ceres/refused.html", {"person": NAME, "suspended": [SUSPENDED]}),
    ("ceres/refused.html", {"person": "", "suspended": []}),
    ("ceres/choose.html", {"habilitations": [ESTABLISHMENT], "error": "<e>", "selected": "1"}),
    ("ceres/choose.html", {"habilitations": [], "error": "", "selected": ""}),
    (
        "ceres/management.html",
        {"establishment": ESTABLISHMENT, "management_url": "https://p/?a=1&b=<2>"},
    ),
    ("ceres/management_refused.html", {"reason": "mfa"}),
    ("ceres/logged_out.html", {}),
    ("ceres/login_failed.html", {}),
    ("404.html", {}),
]


def page(name: str, context: dict, user: object, nonce: str) -> str:
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1")
    request.user = user
    request.csp_nonce = nonce
    context = {"title": 'Titre <&> "q"', **context}
    return TOKEN.sub("csrf", render_to_string(name, context, request))


def main() -> None:
    signed_in = User(id=1, username="s", email="a<b>@x.fr", first_name=NAME, last_name="<&>")
    compared = 0
    for name, context in PAGES:
        for user in (signed_in, AnonymousUser()):
            for nonce in ("n0nce", 'a"<b>&'):
                kept_extends.FLATTEN = False
                expected = page(name, context, user, nonce)
                kept_extends.FLATTEN = True
                for _ in range(2):  # flattened, then as kept
                    assert page(name, context, user, nonce) == expected, name
                compared += 1
        node = engines["django"].engine.get_template(name).nodelist[0]
        assert isinstance(node, kept_extends.KeptExtendsNode), name
        assert node._flat is not None, f"{name} not looked at"
        assert node._flat[1] is not None, f"{name} not flattened"
    sys.stdout.write(f"compared {compared}\n")


if __name__ == "__main__":
    main()
