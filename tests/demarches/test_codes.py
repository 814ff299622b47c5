import math
import string
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from portail.audit.models import AuditEvent
from portail.core.refusals import Refusal
from portail.core.secrets import keyed_hash
from portail.demarches import codes
from portail.demarches.models import ActivationCode
from portail.habilitations.mes_demarches_forms import CODE_CHARACTERS
from tests.factories import (
    DemarcheFactory,
    EstablishmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_generated_codes_are_grouped_from_the_alphabet():
    for _ in range(200):
        code = codes.generate_code()
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4]
        assert all(ch in codes.ALPHABET for ch in "".join(groups))


def test_alphabet_has_no_look_alikes_and_codes_carry_60_bits():
    assert not set("0O1I") & set(codes.ALPHABET)
    assert len(set(codes.ALPHABET)) == len(codes.ALPHABET) == 32
    assert codes.CODE_LENGTH * math.log2(len(codes.ALPHABET)) >= 60


def test_generated_codes_do_not_repeat():
    drawn = {codes.generate_code() for _ in range(5000)}
    assert len(drawn) == 5000
    # every symbol is drawn about as often as any other (60,000 draws: ~1,875 each, σ ≈ 42)
    symbols = "".join(drawn).replace("-", "")
    counts = Counter(symbols)
    assert set(counts) == set(codes.ALPHABET)
    expected = len(symbols) / len(codes.ALPHABET)
    assert all(abs(n - expected) < 0.15 * expected for n in counts.values())


@pytest.mark.parametrize(
    "typed", ["K7QM-3XRT-W9PD", "k7qm3xrtw9pd", " k7qm 3xrt w9pd ", "K7QM–3XRT.W9PD"]
)
def test_normalize_accepts_any_case_and_separators(typed):
    assert codes.normalize_code(typed) == "K7QM3XRTW9PD"
    assert codes.hash_code(typed) == keyed_hash("K7QM3XRTW9PD", "activation-code")


def test_the_alphabet_is_the_one_the_form_describes():
    assert CODE_CHARACTERS == "les chiffres de 2 à 9 et les lettres de A à Z sauf I et O"
    described = set("23456789") | set(string.ascii_uppercase) - {"I", "O"}
    assert set(codes.ALPHABET) == described
    assert codes.never_in_a_code("ABCD-efgh-ijkl 0o1") == ["0", "1", "I", "O"]
    assert codes.never_in_a_code("K7QM-3XRT-W9PD") == []
    assert codes.never_in_a_code("l") == []  # a lower-case L is the L of the alphabet


def test_is_well_formed():
    assert codes.is_well_formed("K7QM3XRTW9PD")
    assert not codes.is_well_formed("K7QM3XRTW9P")
    assert not codes.is_well_formed("K7QM3XRTW9P0")


def test_issue_stores_only_a_keyed_hash(ceres):
    establishment = EstablishmentFactory()
    agent = UserFactory()
    row, code = codes.issue_activation_code(actor=agent, demarche=ceres, siret=establishment.siret)
    normalized = codes.normalize_code(code)
    assert row.code_hash == keyed_hash(normalized, "activation-code")
    assert normalized not in row.code_hash
    assert code not in row.code_hash
    assert row.establishment == establishment
    assert row.issued_by == agent
    expected = timezone.now() + timedelta(days=183)
    assert abs(row.expires_at - expected) < timedelta(minutes=1)
    event = AuditEvent.objects.get(action="activation_code.issued")
    assert event.establishment_id == establishment.pk
    assert normalized not in str(event.data)
    assert code not in str(event.data)


def test_validity_comes_from_settings(ceres, settings):
    settings.ACTIVATION_CODE_VALIDITY_DAYS = 10
    row, _ = codes.issue_activation_code(
        actor=None, demarche=ceres, siret=EstablishmentFactory().siret
    )
    assert abs(row.expires_at - (timezone.now() + timedelta(days=10))) < timedelta(minutes=1)


def test_reissue_revokes_the_unused_previous_code(ceres):
    siret = EstablishmentFactory().siret
    first, _ = codes.issue_activation_code(actor=None, demarche=ceres, siret=siret)
    other, _ = codes.issue_activation_code(
        actor=None, demarche=ceres, siret=EstablishmentFactory().siret
    )
    second, _ = codes.issue_activation_code(actor=None, demarche=ceres, siret=siret)
    first.refresh_from_db()
    other.refresh_from_db()
    second.refresh_from_db()
    assert first.revoked_at is not None
    assert other.revoked_at is None
    assert second.revoked_at is None
    assert list(ActivationCode.objects.usable().filter(siret=siret)) == [second]


def test_issue_refuses_an_invalid_siret_or_a_demarche_without_codes(ceres):
    with pytest.raises(ValueError, match="SIRET"):
        codes.issue_activation_code(actor=None, demarche=ceres, siret="12345678901234")
    no_codes = DemarcheFactory(accepts_activation_codes=False)
    with pytest.raises(ValueError, match="code"):
        codes.issue_activation_code(
            actor=None, demarche=no_codes, siret=EstablishmentFactory().siret
        )
    assert not ActivationCode.objects.exists()


def test_command_prints_the_code_once(ceres):
    establishment = EstablishmentFactory()
    out = StringIO()
    call_command("issue_activation_code", "ceres", establishment.siret, stdout=out)
    printed = out.getvalue().strip().splitlines()[-1]
    row = ActivationCode.objects.get()
    assert row.code_hash == codes.hash_code(printed)
    assert out.getvalue().count(printed) == 1


def test_command_refuses_unknown_demarche_and_bad_siret(ceres):
    with pytest.raises(CommandError, match="inconnue"):
        call_command("issue_activation_code", "nope", EstablishmentFactory().siret)
    with pytest.raises(CommandError, match="SIRET"):
        call_command("issue_activation_code", "ceres", "123")


def test_an_invalid_siret_is_a_refusal_on_the_siret_field(ceres):
    with pytest.raises(codes.CodeRefused) as refused:
        codes.issue_activation_code(actor=None, demarche=ceres, siret="12345678901234")
    assert isinstance(refused.value, Refusal)
    assert (refused.value.message, refused.value.field) == ("SIRET invalide", "siret")
    assert not ActivationCode.objects.exists()
