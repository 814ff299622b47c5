"""The anti-robot check in a real browser (#17 item 11): the proof of work starts with the first
input, without a click; after a form error the page says what to type again (the passwords) and
the solved check is not redone; the sign-up then succeeds. At 390 px and 1280 px."""

import re

import pytest
from playwright.sync_api import expect

from portail.accounts.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Une phrase de passe pour le centre"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_check_starts_on_input_and_survives_a_form_error(
    browser_session, axe_check, mailbox, width
):
    person = browser_session("personne")
    page = person.page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(person.base_url + "/inscription/?type=particulier", timeout=60_000)
    expect(page.get_by_role("heading", name="Créer votre compte")).to_be_visible()
    expect(page.get_by_label("Je ne suis pas un robot")).not_to_be_checked()
    checkbox = page.locator("altcha-widget input[type=checkbox]")  # its label changes

    # The first input starts the proof of work: nobody clicks the checkbox.
    page.get_by_label("Email").fill(f"alice.{width}@exemple.fr")
    expect(page.get_by_text("Vérifié", exact=True)).to_be_visible(timeout=20_000)
    expect(checkbox).to_be_checked()
    solution = page.locator("input[name=altcha]").input_value()
    assert solution

    page.get_by_label(re.compile(r"^\s*Mot de passe")).fill(PASSWORD)
    page.get_by_label("Confirmez votre mot de passe").fill(PASSWORD + " autre")
    page.get_by_text("Madame", exact=True).click()
    page.get_by_label("Nom *", exact=True).fill("Durand")
    page.get_by_label("Prénom").fill("Alice")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Créer mon compte").click()

    # Shown again: the error, what to type again, the check kept as solved.
    expect(page.get_by_text("Les deux mots de passe ne sont pas identiques.")).to_be_visible()
    notice = page.locator("#a-ressaisir")
    expect(notice).to_contain_text("Saisissez de nouveau votre mot de passe et sa confirmation")
    expect(notice).to_contain_text("La vérification anti-robot est déjà faite")
    expect(page.get_by_text("Vérification faite : vous n'avez pas à la refaire.")).to_be_visible()
    expect(page.locator("altcha-widget")).to_have_count(0)
    assert page.locator("input[name=altcha]").input_value() == solution
    expect(page.get_by_label("Email")).to_have_value(f"alice.{width}@exemple.fr")
    expect(page.get_by_label("Prénom")).to_have_value("Alice")
    expect(page.get_by_label(re.compile(r"^\s*Mot de passe"))).to_have_value("")
    axe_check(page, f"inscription — après une erreur à {width} px")
    if width == 390:
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    person.screenshot(f"signup-error-kept-check-{width}")

    page.get_by_label(re.compile(r"^\s*Mot de passe")).fill(PASSWORD)
    page.get_by_label("Confirmez votre mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("Un message d'activation de compte vous a été envoyé")).to_be_visible()
    assert User.objects.filter(email=f"alice.{width}@exemple.fr").exists()
    assert person.console_errors == []
