"""`kept_email.render_kept` gives `render_email`'s bytes: the first time (rendered in full) and
every time after (the pieces kept with marks, joined with the values)."""

import copy
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import override_settings

from portail.notifications import kept_email
from portail.notifications.emails import render_email
from portail.notifications.kept_email import render_kept

pytestmark = pytest.mark.django_db

NEW_BROWSER = "accounts/emails/new_browser"
LINKS = {
    "sessions_link": "https://portail.exemple.fr/mon-compte/sessions/",
    "password_link": "https://portail.exemple.fr/mon-compte/mot-de-passe/",
}
VALUES = [
    {  # what HTML escapes, in a name; no address (shown as "inconnue" by the caller)
        "first_name": "Nina <b>&amp;",
        "last_name": 'O\'Hara "x"',
        "when": "14/07/2026 à 23:05",
        "browser": "Safari 17",
        "system": "iOS 17",
        "ip_masked": "inconnue",
    },
    {  # empty values, and a value that looks like a mark
        "first_name": "",
        "last_name": "keptmark0&x",
        "when": "01/01/2027 à 00:00",
        "browser": "Navigateur inconnu",
        "system": "Système inconnu",
        "ip_masked": "2001:db8:85a3:…",
    },
    {
        "first_name": "Zoé",
        "last_name": "Bançal-Ærø",
        "when": "29/02/2028 à 12:30",
        "browser": "Firefox 128",
        "system": "Linux",
        "ip_masked": "203.0.113.xxx",
    },
]


@pytest.fixture(autouse=True)
def nothing_kept():
    kept_email.forget()
    yield
    kept_email.forget()


@pytest.fixture
def renders(monkeypatch):
    """How many times the three templates were rendered."""
    count = {"n": 0}
    real = kept_email.rendered_parts

    def counted(*args, **kwargs):
        count["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(kept_email, "rendered_parts", counted)
    return count


def test_the_new_browser_email_is_render_email_s_the_first_time_and_after(renders):
    for values in VALUES * 2:
        assert render_kept(NEW_BROWSER, LINKS, values) == render_email(
            NEW_BROWSER, {**LINKS, **values}
        )
    assert renders["n"] == 1  # once with the marks: every other call joined the pieces


def test_escaped_in_html_as_it_is_in_text():
    for _ in range(2):
        subject, text, html = render_kept(NEW_BROWSER, LINKS, VALUES[0])
    assert subject == settings.EMAIL_SUBJECT_PREFIX + "Nouvelle connexion à votre compte"
    assert 'Bonjour Nina <b>&amp; O\'Hara "x",\n' in text
    assert "<p>Bonjour Nina &lt;b&gt;&amp;amp; O&#x27;Hara &quot;x&quot;,</p>" in html
    assert "- adresse IP : inconnue\n" in text
    assert f'<a href="{LINKS["sessions_link"]}">' in html


def test_the_login_s_email_shows_the_time_in_paris_and_an_unknown_address():
    """What the templates' `date` and `default` filters showed, now formatted by the caller."""
    from portail.accounts.user_sessions import _tell_owner
    from portail.core.context import SYSTEM
    from portail.notifications.models import OutboxEmail
    from tests.factories import UserFactory

    user = UserFactory(first_name="Anne", last_name="Bé")
    described = {"browser": "Safari 17", "system": "iOS 17", "ip_masked": ""}
    for _ in range(2):
        _tell_owner(user, datetime(2026, 7, 14, 21, 5, tzinfo=UTC), described, SYSTEM)
    first, again = OutboxEmail.objects.order_by("id")
    assert "- le 14/07/2026 à 23:05\n- adresse IP : inconnue\n" in first.body_text
    assert "<li>le 14/07/2026 à 23:05</li>" in first.body_html
    assert (first.subject, first.body_text, first.body_html) == (
        again.subject,
        again.body_text,
        again.body_html,
    )


def test_a_template_that_filters_a_value_is_rendered_in_full(tmp_path, renders, caplog):
    folder = tmp_path / "essai"
    folder.mkdir()
    (folder / "filtre_subject.txt").write_text("Sujet {{ name|upper }}")
    (folder / "filtre.txt").write_text("Bonjour {{ name|default:'vous' }}")
    (folder / "filtre.html").write_text("<p>{{ name }}</p>")
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], tmp_path]
    with override_settings(TEMPLATES=templates):
        for name in ("nina", "", "zoé"):
            got = render_kept("essai/filtre", {}, {"name": name})
            assert got == render_email("essai/filtre", {"name": name})
    assert "rendered in full" in caplog.text
    assert renders["n"] == 1  # the marks once; then render_email every time


def test_nothing_is_kept_with_the_engine_s_debug(renders):
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["debug"] = True
    with override_settings(TEMPLATES=templates):
        for values in VALUES:
            assert render_kept(NEW_BROWSER, LINKS, values) == render_email(
                NEW_BROWSER, {**LINKS, **values}
            )
    assert renders["n"] == 0
