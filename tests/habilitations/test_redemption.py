import html
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.companies.models import Establishment, SireneEtablissement, SireneUniteLegale
from portail.core.refusals import Refusal
from portail.demarches.codes import issue_activation_code, normalize_code
from portail.demarches.models import ActivationCode, Demarche
from portail.habilitations import admission, redemption
from portail.habilitations.models import Habilitation
from portail.notifications.models import OutboxEmail
from tests.demarches.factories import issued_code
from tests.factories import EstablishmentFactory, UserFactory, make_siren, make_siret
from tests.habilitations.factories import gestionnaire_of

pytestmark = pytest.mark.django_db
URL = reverse("demarches:activate", args=["ceres"])


def post(client, siret, code):
    return client.post(URL, {"siret": siret, "code": code})


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_success_gives_both_roles_on_the_codes_siret(client, ceres):
    user = UserFactory(with_establishment=True)  # their own SIRET differs from the code's
    site = EstablishmentFactory()
    row, code = issued_code(ceres, site)
    client.force_login(user)

    response = post(client, site.siret, code.replace("-", "").lower())

    assert response.status_code == 302
    assert response["Location"] == reverse("demarches:mes_demarches")
    held = Habilitation.objects.active().filter(user=user)
    assert {h.role.label for h in held} == {"Centre agréé", "Gestionnaire CENTRES"}
    assert {h.establishment for h in held} == {site}
    assert {h.origin for h in held} == {Habilitation.Origin.ACTIVATION_CODE}
    row.refresh_from_db()
    assert row.used_by == user
    assert row.used_at is not None
    assert AuditEvent.objects.filter(action="demarche.activated", actor=user).count() == 1
    email = OutboxEmail.objects.get(recipient=user.email)
    assert "CERES" in email.subject
    assert site.siret in email.body_text
    assert "gestionnaire" in email.body_text
    page = page_text(client.get(reverse("demarches:mes_demarches")))
    assert "Vous disposez désormais de la démarche CERES." in page
    assert "Certifications Emplois — CERES</a>" in page


@pytest.mark.parametrize("typed", ["{code}", "{lower}", " {spaced} ", "{nodash}"])
def test_code_typed_in_any_form(client, ceres, typed):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    user = UserFactory()
    client.force_login(user)
    value = typed.format(
        code=code,
        lower=code.lower(),
        spaced=code.replace("-", " "),
        nodash=code.replace("-", ""),
    )
    assert post(client, establishment.siret, value).status_code == 302
    assert Habilitation.objects.filter(user=user).count() == 2


def _expired(ceres, establishment):
    row, code = issued_code(ceres, establishment)
    ActivationCode.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(1))
    return code


def _used(ceres, establishment):
    _, code = issued_code(ceres, establishment)
    redemption.activate_with_code(
        user=UserFactory(), demarche=ceres, siret=establishment.siret, code=code
    )
    return code


def _revoked(ceres, establishment):
    _, code = issued_code(ceres, establishment)
    issued_code(ceres, establishment)  # reissue revokes the first
    return code


def _other_siret(ceres, establishment):
    _, code = issued_code(ceres, EstablishmentFactory())
    return code


def _unknown(ceres, establishment):
    issued_code(ceres, establishment)
    return "ABCD-EFGH-JKMN"


@pytest.mark.parametrize(
    ("make_code", "reason"),
    [
        (_expired, "expired"),
        (_used, "used"),
        (_revoked, "revoked"),
        (_other_siret, "siret_mismatch"),
        (_unknown, "unknown"),
    ],
)
def test_every_bad_code_gets_the_same_message_and_is_audited(client, ceres, make_code, reason):
    establishment = EstablishmentFactory()
    code = make_code(ceres, establishment)
    user = UserFactory()
    client.force_login(user)

    response = post(client, establishment.siret, code)

    assert response.status_code == 200
    assert redemption.GENERIC_FAILURE in page_text(response)
    assert not Habilitation.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="demarche.activation_failed", actor=user)
    assert event.data == {"siret": establishment.siret, "reason": reason}
    # the form keeps what was typed
    assert f'value="{establishment.siret}"' in response.content.decode()


def test_a_code_works_once(client, ceres):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    first, second = UserFactory(), UserFactory()
    redemption.activate_with_code(user=first, demarche=ceres, siret=establishment.siret, code=code)
    with pytest.raises(redemption.ActivationRefusedError):
        redemption.activate_with_code(
            user=second, demarche=ceres, siret=establishment.siret, code=code
        )
    assert not Habilitation.objects.filter(user=second).exists()


def test_a_code_of_another_demarche_does_not_work(ceres):
    establishment = EstablishmentFactory()
    maf = Demarche.objects.get(code="mon-activite-formation")
    _, code = issued_code(maf, establishment)
    with pytest.raises(redemption.ActivationRefusedError):
        redemption.activate_with_code(
            user=UserFactory(), demarche=ceres, siret=establishment.siret, code=code
        )


@pytest.mark.parametrize(
    ("siret", "code", "field", "message"),
    [
        ("", "K7QM-3XRT-W9PD", "siret", "Saisissez le numéro SIRET (14 chiffres)."),
        ("1234", "K7QM-3XRT-W9PD", "siret", "Le numéro SIRET doit comporter 14 chiffres."),
        ("12345678901234", "K7QM-3XRT-W9PD", "siret", "Ce numéro SIRET n'est pas valide."),
        (
            "abcdefghijklmn",
            "K7QM-3XRT-W9PD",
            "siret",
            "Le numéro SIRET doit comporter 14 chiffres.",
        ),
        (None, "", "code", "Saisissez le code d'activation reçu par courrier."),
        (None, "K7QM-3XRT", "code", "Le code d'activation comporte 12 caractères"),
        (None, "K7QM-3XRT-W9P#", "code", "Le code d'activation comporte 12 caractères"),
        (None, "K7QM-3XRT-W9P0", "code", "Un code d'activation ne contient jamais le chiffre 0"),
        (None, "K" * 41, "code", "40 caractères"),
    ],
)
def test_bad_inputs_get_a_message_on_the_field(client, ceres, siret, code, field, message):  # noqa: PLR0917
    establishment = EstablishmentFactory()
    siret = establishment.siret if siret is None else siret
    client.force_login(UserFactory())
    response = post(client, siret, code)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert message in page_text(response)
    if siret:
        assert f'value="{siret}"' in response.content.decode()
    assert not AuditEvent.objects.filter(action="demarche.activation_failed").exists()


CHARACTERS = "les chiffres de 2 à 9 et les lettres de A à Z sauf I et O"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ABCD-EFGH-IJKL", "Un code d'activation ne contient jamais la lettre I : "),
        ("K7QM-3XRT-W9PO", "Un code d'activation ne contient jamais la lettre O : "),
        ("K7QM-3XRT-W91D", "Un code d'activation ne contient jamais le chiffre 1 : "),
        ("K7QM-3XRT-WO0D", "ne contient jamais le chiffre 0 ni la lettre O : "),
        ("ABCD-EFGH-IJKL", f"ses 12 caractères sont {CHARACTERS}, pour qu'on ne puisse pas"),
        ("K7QM-3XRT-W9", f"12 caractères : {CHARACTERS}, par exemple K7QM-3XRT-W9PD"),
    ],
)
def test_the_message_says_which_characters_a_code_holds(client, ceres, code, message):
    establishment = EstablishmentFactory()
    client.force_login(UserFactory())
    response = post(client, establishment.siret, code)
    assert response.status_code == 200
    assert message in page_text(response)
    assert "Le code d'activation comporte 12 lettres et chiffres" not in page_text(response)


def test_siret_may_be_typed_with_spaces(client, ceres):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    s = establishment.siret
    client.force_login(UserFactory())
    assert post(client, f"{s[:3]} {s[3:6]} {s[6:9]} {s[9:]}", code).status_code == 302


def test_attempts_are_limited_per_user(limits_store, client, ceres):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    user = UserFactory()
    client.force_login(user)
    for _ in range(5):
        other = EstablishmentFactory()
        response = post(client, other.siret, "ABCD-EFGH-JKMN")
        assert redemption.GENERIC_FAILURE in page_text(response)
    # now even the right code is refused, with the wait
    response = post(client, establishment.siret, code)
    assert "Trop de tentatives infructueuses. Vous pourrez réessayer dans 1 minute." in page_text(
        response
    )
    assert not Habilitation.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="demarche.activation_blocked").count() == 1


def test_attempts_are_limited_per_siret_across_users(limits_store, client, ceres):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    for _ in range(5):
        with pytest.raises(redemption.ActivationRefusedError):
            redemption.activate_with_code(
                user=UserFactory(),
                demarche=ceres,
                siret=establishment.siret,
                code="ABCD-EFGH-JKMN",
            )
    with pytest.raises(Refusal, match="Trop de tentatives"):
        redemption.activate_with_code(
            user=UserFactory(), demarche=ceres, siret=establishment.siret, code=code
        )
    # another SIRET is not blocked
    other = EstablishmentFactory()
    _, other_code = issued_code(ceres, other)
    redemption.activate_with_code(
        user=UserFactory(), demarche=ceres, siret=other.siret, code=other_code
    )


def test_the_wait_grows(limits_store, ceres):
    user = UserFactory()
    establishment = EstablishmentFactory()
    waits = []
    for _ in range(2):
        for _ in range(5):
            redemption.activation_user_limiter.fail(f"user:{user.pk}")
        waits.append(redemption.activation_user_limiter.wait_seconds(f"user:{user.pk}"))
    assert waits[1] > waits[0] >= 60
    with pytest.raises(Refusal, match="2 minutes"):
        redemption.activate_with_code(
            user=user, demarche=ceres, siret=establishment.siret, code="ABCD-EFGH-JKMN"
        )


def test_a_closed_establishment_cannot_be_activated(client, ceres):
    establishment = EstablishmentFactory(closed=True)
    row, code = issued_code(ceres, establishment)
    user = UserFactory()
    client.force_login(user)
    response = post(client, establishment.siret, code)
    assert admission.CLOSED in page_text(response)
    assert not Habilitation.objects.filter(user=user).exists()
    row.refresh_from_db()
    assert row.used_at is None


def test_a_new_code_makes_an_additional_gestionnaire(ceres):
    establishment = EstablishmentFactory()
    _, first_code = issued_code(ceres, establishment)
    first = UserFactory()
    redemption.activate_with_code(
        user=first, demarche=ceres, siret=establishment.siret, code=first_code
    )
    before = set(Habilitation.objects.filter(user=first).values_list("pk", "revoked_at"))
    _, new_code = issued_code(ceres, establishment)
    second = UserFactory()
    redemption.activate_with_code(
        user=second, demarche=ceres, siret=establishment.siret, code=new_code
    )
    assert set(Habilitation.objects.filter(user=first).values_list("pk", "revoked_at")) == before
    assert Habilitation.objects.active().managing().filter(establishment=establishment).count() == 2


def test_a_siret_unknown_to_the_portal_and_the_registry_is_refused(ceres):
    siret = make_siret(make_siren(4242))
    ActivationCode.objects.all().delete()
    row, code = issue_activation_code(actor=None, demarche=ceres, siret=siret)
    assert row.establishment is None
    with pytest.raises(Refusal) as refused:
        redemption.activate_with_code(user=UserFactory(), demarche=ceres, siret=siret, code=code)
    # not in the local registry either: the registry's own message, on the SIRET field
    assert refused.value.field == "siret"
    assert not Establishment.objects.filter(siret=siret).exists()
    row.refresh_from_db()
    assert row.used_at is None


def test_an_establishment_new_to_the_portal_comes_from_the_registry(ceres):
    siren = make_siren(4343)
    siret = make_siret(siren, 2)
    SireneUniteLegale.objects.create(siren=siren, name="CFI ATLANTIQUE")
    SireneEtablissement.objects.create(
        siret=siret, siren=siren, address="1 quai de la Fosse", postcode="44000", commune="NANTES"
    )
    _, code = issue_activation_code(actor=None, demarche=ceres, siret=siret)
    user = UserFactory()
    redemption.activate_with_code(user=user, demarche=ceres, siret=siret, code=code)
    establishment = Establishment.objects.get(siret=siret)
    assert establishment.name == "CFI ATLANTIQUE"
    assert establishment.verified
    assert Habilitation.objects.filter(user=user, establishment=establishment).count() == 2


def test_a_registry_closed_establishment_cannot_be_activated(ceres):
    siren = make_siren(4444)
    siret = make_siret(siren, 3)
    SireneUniteLegale.objects.create(siren=siren, name="FERMÉ")
    SireneEtablissement.objects.create(siret=siret, siren=siren, is_active=False)
    _, code = issue_activation_code(actor=None, demarche=ceres, siret=siret)
    with pytest.raises(Refusal, match="fermé"):
        redemption.activate_with_code(user=UserFactory(), demarche=ceres, siret=siret, code=code)


def test_the_code_is_nowhere_in_the_database_or_the_logs(client, ceres, caplog):
    caplog.set_level(logging.DEBUG)
    establishment = EstablishmentFactory()
    out = StringIO()
    call_command("issue_activation_code", "ceres", establishment.siret, stdout=out)
    code = out.getvalue().strip().splitlines()[-1]
    client.force_login(UserFactory())
    post(client, establishment.siret, "ABCD-EFGH-JKMN")
    post(client, establishment.siret, code.lower())
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    for form in (code, normalize_code(code), code.lower()):
        assert form not in dump.getvalue()
        assert form not in caplog.text
    assert "ABCDEFGHJKMN" not in dump.getvalue()


def test_particulier_gets_a_clear_refusal(client, ceres):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    user = UserFactory(particulier=True)
    client.force_login(user)
    for response in (client.get(URL), post(client, establishment.siret, code)):
        assert response.status_code == 403
        assert "réservée aux comptes professionnels" in page_text(response)
    assert not Habilitation.objects.filter(user=user).exists()


def test_anonymous_is_sent_to_login(client, ceres):
    for response in (client.get(URL), post(client, "x", "y")):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_csrf_is_required(ceres):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert post(client, establishment.siret, code).status_code == 403
    assert not Habilitation.objects.filter(user=user).exists()


def test_unknown_demarche_is_404(client, ceres):
    client.force_login(UserFactory())
    assert client.get(reverse("demarches:activate", args=["nope"])).status_code == 404
    assert client.get(reverse("demarches:add", args=["nope"])).status_code == 404


def test_form_page_has_the_manuals_words(client, ceres):
    user = UserFactory(with_establishment=True)
    client.force_login(user)
    text = page_text(client.get(URL))
    for words in (
        "Ajouter une démarche",
        "Demander l'accès à un gestionnaire",
        "Saisir le code d'activation",
        "Pour valider votre accès à la démarche, veuillez préciser :",
        'SIRET Enregistré<span class="fr-required-marker" aria-hidden="true">\xa0*</span>',
        'Code d\'activation<span class="fr-required-marker" aria-hidden="true">\xa0*</span>',
        "Abandonner",
        "Valider mon accès",
        "Si vous ne trouvez pas votre code d'activation, veuillez contacter le service en charge de la démarche.",
    ):
        assert words in text
    assert f'value="{user.declared_siret}"' in text


def test_add_page_offers_the_two_choices(client, ceres):
    client.force_login(UserFactory())
    text = page_text(client.get(reverse("demarches:add", args=["ceres"])))
    assert reverse("demarches:activate", args=["ceres"]) in text
    assert reverse("demarches:request_access", args=["ceres"]) in text


def test_gestionnaire_helper_is_used_by_factories(ceres):
    # guards tests/habilitations/factories.py: the helper really makes a gestionnaire
    establishment = EstablishmentFactory()
    user = gestionnaire_of(ceres, establishment)
    assert Habilitation.objects.active().managing().filter(user=user).count() == 1


def test_while_redis_is_down_no_code_is_looked_up(client, ceres, settings):
    establishment = EstablishmentFactory()
    _, code = issued_code(ceres, establishment)
    user = UserFactory()
    client.force_login(user)
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = post(client, establishment.siret, code)  # even the right code
    assert "Le service est momentanément indisponible" in page_text(response)
    assert not Habilitation.objects.filter(user=user).exists()
