"""A database filled by the previous schema migrates forward with every row kept, still working.

The centres (`backoffice` → `centres`), the access requests (`demarches` → `habilitations`) and
the démarche/establishment columns of `audit` and `notifications` are being redrawn with
SeparateDatabaseAndState: the tables and their rows stay, only Django's state moves. This test
migrates the test database back to PREVIOUS_SCHEMA, fills it through that schema's historical
models, migrates it forward to the latest migrations, then checks through the current models
that every row is still there, every relation still resolves, and the portal still gives CERES
and the gestionnaire what it gave them before.
"""

from datetime import date, timedelta

import pytest
from django.apps import apps as current_apps
from django.core import serializers
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request

from portail.demarches.catalogue import CERES, install_catalogue
from portail.habilitations.scope import managed_establishment_ids

# The schema of release 0.1.0 (commit 0620813), before the apps were redrawn: the leaf migration of
# every app of `portail` at that commit (MigrationExecutor.loader.graph.leaf_nodes()). Fixed.
PREVIOUS_SCHEMA = [
    ("accounts", "0003_name_prefix_indexes"),
    ("audit", "0001_initial"),
    ("backoffice", "0003_regions"),
    ("companies", "0002_invitation_submission_key"),
    ("demarches", "0002_catalogue"),
    ("habilitations", "0003_live_habilitation_cover"),
    ("notifications", "0001_initial"),
    ("oidc", "0001_initial"),
]
# What the test migrates back: the apps the redrawing touches, to their PREVIOUS_SCHEMA leaf.
# `executor.migrate` moves only the apps it is given (and what depends on their later
# migrations): accounts stays put (its 0003 builds indexes CONCURRENTLY, outside any
# transaction, on PostgreSQL). An app born after PREVIOUS_SCHEMA goes back to nothing with a
# None target: `centres`.
MIGRATE_BACK_TO = [
    ("backoffice", "0003_regions"),
    ("demarches", "0002_catalogue"),
    ("habilitations", "0003_live_habilitation_cover"),
    ("audit", "0001_initial"),
    ("notifications", "0001_initial"),
    ("centres", None),
]

# Where each model lives in PREVIOUS_SCHEMA (the test fills these historical models). Fixed.
THEN = {
    "User": "accounts.User",
    "Establishment": "companies.Establishment",
    "Demarche": "demarches.Demarche",
    "Role": "demarches.Role",
    "ActivationCode": "demarches.ActivationCode",
    "AccessRequest": "demarches.AccessRequest",
    "Region": "backoffice.Region",
    "AgentProfile": "backoffice.AgentProfile",
    "CentreImport": "backoffice.CentreImport",
    "Centre": "backoffice.Centre",
    "LinkedSite": "backoffice.LinkedSite",
    "LetterBatch": "backoffice.LetterBatch",
    "Letter": "backoffice.Letter",
    "Habilitation": "habilitations.Habilitation",
    "Invitation": "habilitations.Invitation",
    "AuditEvent": "audit.AuditEvent",
    "OutboxEmail": "notifications.OutboxEmail",
}
# Where the test reads them after the upgrade: the models that changed app are read in their new app.
NOW = {
    "User": "accounts.User",
    "Establishment": "companies.Establishment",
    "Demarche": "demarches.Demarche",
    "Role": "demarches.Role",
    "ActivationCode": "demarches.ActivationCode",
    "AccessRequest": "habilitations.AccessRequest",
    "Region": "centres.Region",
    "AgentProfile": "backoffice.AgentProfile",
    "CentreImport": "centres.CentreImport",
    "Centre": "centres.Centre",
    "LinkedSite": "centres.LinkedSite",
    "LetterBatch": "backoffice.LetterBatch",
    "Letter": "backoffice.Letter",
    "Habilitation": "habilitations.Habilitation",
    "Invitation": "habilitations.Invitation",
    "AuditEvent": "audit.AuditEvent",
    "OutboxEmail": "notifications.OutboxEmail",
}

# The demo's establishments (portail/companies/demo.py): CFI ATLANTIQUE's head office and one of
# its sites (one SIREN), and two other companies.
NANTES = "90310000600019"
SAINT_NAZAIRE = "90310000600027"
HORIZON = "90311781000015"
FORMAPRO = "90310137600015"
CLIENT_ID = "ceres-schema-upgrade"  # CERES's OIDC client_id, recorded on the démarche

GESTIONNAIRE = "gestionnaire-centres"
CENTRE_AGREE = "centre-agree"


# The migrations that write rows: with content types and permissions, all a freshly migrated
# database holds. A test with transaction=True ends with a flush, which deletes these rows.
# The rows that data migrations write (the catalogue, the regions): the flush that ends this
# transactional test removes them, and the tests after it expect them.
MIGRATED_DATA = ["demarches.Demarche", "demarches.Role", "centres.Region"]


@pytest.fixture(scope="module", autouse=True)
def _migrated_data_restored(django_db_setup, django_db_blocker):
    """Writes back, after the flush that ends the test, the rows `migrate` wrote.

    A snapshot of the current models, taken before the test: the data migrations themselves
    cannot be replayed, their historical models name tables that have since been renamed.
    A module fixture is torn down after the test's own teardown, hence after the flush (which
    recreates content types and permissions itself, through post_migrate). serialized_rollback
    would not do: it reloads its snapshot at the start of the test, not after it, and that load
    collides with the content types the flush of another transactional test recreated."""
    with django_db_blocker.unblock():
        snapshot = serializers.serialize(
            "json",
            [obj for label in MIGRATED_DATA for obj in current_apps.get_model(label).objects.all()],
        )
    yield
    with django_db_blocker.unblock():
        for obj in serializers.deserialize("json", snapshot):
            obj.save()


class Recorder:
    """What the historical data says each relation leads to: (model, pk, path, value)."""

    def __init__(self):
        self.expected: list[tuple[str, int, str, object]] = []

    def expect(self, name: str, obj, **paths):
        # Paths are attribute chains, "__" for ".": centre__establishment__siret.
        for path, value in paths.items():
            self.expected.append((name, obj.pk, path, value))
        return obj


def resolve(obj, path: str):
    for attribute in path.split("__"):
        obj = getattr(obj, attribute)
    return obj


def fill(old, recorder: Recorder) -> dict[str, int]:
    """The demo's shape, written through the historical models `old`; returns a few pks."""
    m = {name: old.get_model(label) for name, label in THEN.items()}
    expect = recorder.expect
    now = timezone.now()
    in_a_month = now + timedelta(days=30)

    # The catalogue migration created CERES and its roles; a flush may have removed them:
    # install_catalogue is what that migration runs (it only creates what is missing).
    install_catalogue(m["Demarche"], m["Role"])
    ceres = m["Demarche"].objects.get(code=CERES)
    ceres.oidc_client_id = CLIENT_ID
    ceres.save(update_fields=["oidc_client_id"])
    manager = m["Role"].objects.get(demarche=ceres, code=GESTIONNAIRE)
    plain = m["Role"].objects.get(demarche=ceres, code=CENTRE_AGREE)

    def establishment(siret, name, address, postcode, commune, *, head_office):
        return m["Establishment"].objects.create(
            siret=siret,
            siren=siret[:9],
            name=name,
            address=address,
            postcode=postcode,
            commune=commune,
            is_head_office=head_office,
            source="sirene_local",
            verified=True,
        )

    nantes = establishment(
        NANTES, "CFI ATLANTIQUE", "12 QUAI DE LA FOSSE", "44000", "NANTES", head_office=True
    )
    saint_nazaire = establishment(
        SAINT_NAZAIRE,
        "CFI ATLANTIQUE",
        "3 AVENUE DE LA GARE",
        "44600",
        "SAINT-NAZAIRE",
        head_office=False,
    )
    horizon = establishment(
        HORIZON,
        "GROUPE HORIZON COMPETENCES",
        "8 RUE DE LA PAIX",
        "75002",
        "PARIS",
        head_office=True,
    )
    formapro = establishment(
        FORMAPRO, "FORMAPRO NORMANDIE", "1 RUE ECUYERE", "14000", "CAEN", head_office=True
    )

    def person(email, first, last, establishment=None, **fields):
        if establishment is not None:
            fields.update(
                establishment=establishment,
                declared_siret=establishment.siret,
                declared_siren=establishment.siren,
                declared_company_name=establishment.name,
                establishment_verified=True,
            )
        user = m["User"].objects.create(
            email=email,
            password="!",  # unusable: nobody signs in here
            first_name=first,
            last_name=last,
            email_verified_at=now,
            **fields,
        )
        return expect(
            "User",
            user,
            email=email,
            establishment_id=establishment.pk if establishment is not None else None,
        )

    agent = person("agent.pdl@dreets.demo.gouv.fr", "Agnès", "Démo", account_type="partenaire")
    guy = person("guy.duponttest@cfi-atlantique.demo.fr", "Guy", "Duponttest", nantes)
    claire = person("claire.martin@cfi-atlantique.demo.fr", "Claire", "Martin", saint_nazaire)
    julie = person("julie.bernard@cfi-atlantique.demo.fr", "Julie", "Bernard", saint_nazaire)
    marc = person("marc.petit@cfi-atlantique.demo.fr", "Marc", "Petit", nantes)
    tiers = person("sophie.leroy@horizon.demo.fr", "Sophie", "Leroy", horizon)

    # The back office: an agent of two regions, two centres (one from a CSV import).
    pays_de_la_loire, _ = m["Region"].objects.get_or_create(
        code="52", defaults={"name": "DREETS Pays de la Loire"}
    )
    ile_de_france, _ = m["Region"].objects.get_or_create(
        code="11", defaults={"name": "DRIEETS Île-de-France"}
    )
    profile = m["AgentProfile"].objects.create(user=agent, is_national=False)
    profile.regions.set([pays_de_la_loire, ile_de_france])
    expect("AgentProfile", profile, user__email=agent.email, is_national=False)

    centre_import = m["CentreImport"].objects.create(
        created_by=agent, filename="centres-agrees.csv", encoding="utf-8", line_count=1
    )
    expect("CentreImport", centre_import, created_by_id=agent.pk, filename="centres-agrees.csv")
    cfi = m["Centre"].objects.create(
        establishment=nantes,
        region=pays_de_la_loire,
        agrement_reference="AGR-52-2018-001",
        agrement_date=date(2018, 1, 15),
        contact_email="contact@cfi-atlantique.demo.fr",
        letter_name="CFI ATLANTIQUE",
        letter_address="12 QUAI DE LA FOSSE\n44000 NANTES",
        created_by=agent,
    )
    expect(
        "Centre",
        cfi,
        establishment__siret=NANTES,
        region__code="52",
        created_by_id=agent.pk,
        imported_in_id=None,
        agrement_date=date(2018, 1, 15),
    )
    imported = m["Centre"].objects.create(
        establishment=horizon,
        region=ile_de_france,
        agrement_reference="AGR-11-2018-042",
        letter_name="GROUPE HORIZON COMPETENCES",
        letter_address="8 RUE DE LA PAIX\n75002 PARIS",
        created_by=agent,
        imported_in=centre_import,
    )
    expect(
        "Centre",
        imported,
        establishment__siret=HORIZON,
        region__code="11",
        imported_in__filename="centres-agrees.csv",
    )
    for site_establishment in (saint_nazaire, formapro):
        site = m["LinkedSite"].objects.create(
            centre=cfi,
            establishment=site_establishment,
            label=f"{site_establishment.name} — {site_establishment.commune}",
        )
        expect(
            "LinkedSite",
            site,
            centre__establishment__siret=NANTES,
            establishment__siret=site_establishment.siret,
        )
    annexe = m["LinkedSite"].objects.create(
        centre=imported, label="Annexe de Montreuil", address="5 rue de Paris\n93100 MONTREUIL"
    )
    expect(
        "LinkedSite",
        annexe,
        centre__establishment__siret=HORIZON,
        establishment_id=None,
        address="5 rue de Paris\n93100 MONTREUIL",
    )

    # Activation codes (one used by Guy, one waiting) and the letters that carried them.
    used_code = m["ActivationCode"].objects.create(
        demarche=ceres,
        siret=NANTES,
        establishment=nantes,
        code_hash="a" * 64,
        issued_by=agent,
        issued_at=now - timedelta(days=20),
        expires_at=now + timedelta(days=40),
        used_by=guy,
        used_at=now - timedelta(days=10),
    )
    expect("ActivationCode", used_code, demarche__code=CERES, used_by__email=guy.email)
    pending_code = m["ActivationCode"].objects.create(
        demarche=ceres,
        siret=HORIZON,
        establishment=horizon,
        code_hash="b" * 64,
        issued_by=agent,
        expires_at=now + timedelta(days=60),
    )
    expect("ActivationCode", pending_code, establishment__siret=HORIZON, used_by_id=None)
    batch = m["LetterBatch"].objects.create(
        source="selection",
        description="Pays de la Loire et Île-de-France",
        created_by=agent,
        letter_count=2,
    )
    expect("LetterBatch", batch, created_by__email=agent.email, letter_count=2)
    for centre, code in ((cfi, used_code), (imported, pending_code)):
        letter = m["Letter"].objects.create(
            centre=centre, batch=batch, activation_code=code, issued_by=agent
        )
        expect(
            "Letter",
            letter,
            centre__establishment__siret=centre.establishment.siret,
            batch_id=batch.pk,
            activation_code__code_hash=code.code_hash,
            activation_code__siret=centre.establishment.siret,
            issued_by__email=agent.email,
        )

    # Habilitations: Guy through the code (both roles), Claire through an invitation, Julie
    # through an access request, Sophie by delegation until next month, and a revoked one.
    def habilitation(user, role, establishment, origin, **fields):
        granted = m["Habilitation"].objects.create(
            user=user,
            demarche=ceres,
            establishment=establishment,
            role=role,
            origin=origin,
            **fields,
        )
        return expect(
            "Habilitation",
            granted,
            user__email=user.email,
            demarche__code=CERES,
            establishment__siret=establishment.siret,
            role__code=role.code,
            origin=origin,
            ends_at=fields.get("ends_at"),
            revoked_at=fields.get("revoked_at"),
        )

    habilitation(guy, manager, nantes, "activation_code")
    habilitation(guy, plain, nantes, "activation_code")
    by_invitation = habilitation(claire, plain, saint_nazaire, "invitation", granted_by=guy)
    habilitation(julie, plain, saint_nazaire, "access_request", granted_by=guy)
    delegation = habilitation(
        tiers, plain, nantes, "delegation", granted_by=guy, ends_at=in_a_month
    )
    habilitation(
        claire,
        manager,
        nantes,
        "invitation",
        granted_by=guy,
        revoked_by=guy,
        revoked_at=now - timedelta(days=1),
        revoke_reason="A quitté le siège",
    )

    # Invitations: accepted (colleague, third party), pending, and a third-party offer.
    def invitation(email, establishment, role, token, **fields):
        sent = m["Invitation"].objects.create(
            demarche=ceres,
            establishment=establishment,
            role=role,
            email=email,
            token_hash=token * 64,
            sent_by=guy,
            expires_at=now + timedelta(days=7),
            **fields,
        )
        return expect(
            "Invitation",
            sent,
            email=email,
            establishment__siret=establishment.siret,
            role__code=role.code,
            sent_by__email=guy.email,
            habilitation_id=fields.get("habilitation").pk if "habilitation" in fields else None,
            kind=fields.get("kind", "colleague"),
        )

    invitation(
        claire.email,
        saint_nazaire,
        plain,
        "c",
        invited_user=claire,
        accepted_at=now,
        accepted_by=claire,
        habilitation=by_invitation,
    )
    invitation(
        tiers.email,
        nantes,
        plain,
        "d",
        kind="third_party",
        invited_user=tiers,
        delegation_ends_at=in_a_month,
        accepted_at=now,
        accepted_by=tiers,
        habilitation=delegation,
    )
    invitation("nouveau.collegue@cfi-atlantique.demo.fr", nantes, plain, "e")
    invitation(
        "expert@formapro.demo.fr",
        nantes,
        plain,
        "f",
        kind="third_party",
        delegation_ends_at=now + timedelta(days=90),
    )

    # Access requests: accepted (Julie), refused then asked again (Marc).
    def access_request(requester, establishment, status, **fields):
        asked = m["AccessRequest"].objects.create(
            requester=requester,
            demarche=ceres,
            establishment=establishment,
            role=plain,
            status=status,
            expires_at=now + timedelta(days=14),
            message="Bonjour",
            **fields,
        )
        return expect(
            "AccessRequest",
            asked,
            requester__email=requester.email,
            demarche__code=CERES,
            establishment__siret=establishment.siret,
            role__code=CENTRE_AGREE,
            status=status,
            decided_by_id=guy.pk if "decided_by" in fields else None,
            granted_role_id=fields.get("granted_role").pk if "granted_role" in fields else None,
        )

    access_request(
        julie, saint_nazaire, "accepted", decided_by=guy, decided_at=now, granted_role=plain
    )
    access_request(
        marc,
        nantes,
        "refused",
        decided_by=guy,
        decided_at=now,
        decision_reason="Inconnu",
    )
    access_request(marc, nantes, "pending")

    # The journal and the outbox, about the démarche and an establishment.
    for action, establishment, target in (
        ("habilitation.granted", saint_nazaire, by_invitation),
        ("demarche.activated", None, used_code),
    ):
        event = m["AuditEvent"].objects.create(
            actor=guy,
            actor_label=guy.email,
            action=action,
            target_type=target._meta.model_name,
            target_id=str(target.pk),
            demarche=ceres,
            establishment=establishment,
            ip="192.0.2.10",
            data={"role": CENTRE_AGREE},
        )
        expect(
            "AuditEvent",
            event,
            action=action,
            actor_id=guy.pk,
            target_id=str(target.pk),
            demarche_id=ceres.pk,
            establishment_id=establishment.pk if establishment else None,
            data={"role": CENTRE_AGREE},
        )
    for recipient, establishment, status in (
        (claire.email, saint_nazaire, "sent"),
        ("expert@formapro.demo.fr", nantes, "pending"),
    ):
        email = m["OutboxEmail"].objects.create(
            recipient=recipient,
            subject="Invitation CERES",
            body_text="Bonjour,",
            category="invitation",
            template="habilitations/emails/invitation",
            demarche=ceres,
            establishment=establishment,
            status=status,
            sent_at=now if status == "sent" else None,
        )
        expect(
            "OutboxEmail",
            email,
            recipient=recipient,
            status=status,
            message_id=email.message_id,
            demarche_id=ceres.pk,
            establishment_id=establishment.pk,
        )

    return {
        "agent": agent.pk,
        "guy": guy.pk,
        "claire": claire.pk,
        "tiers": tiers.pk,
        "nantes": nantes.pk,
        "saint_nazaire": saint_nazaire.pk,
        "formapro": formapro.pk,
    }


def primary_keys(apps_registry_get) -> dict[str, list]:
    return {
        name: sorted(apps_registry_get(name)._base_manager.values_list("pk", flat=True))
        for name in THEN
    }


def ceres_claim(user, client_id: str) -> list[dict]:
    """The `habilitations` claim CERES reads from userinfo, computed by the portal's validator
    (OAUTH2_VALIDATOR_CLASS) as the userinfo endpoint does."""
    request = Request("http://testserver/o/userinfo/")
    request.user = user
    request.client = get_application_model()(client_id=client_id)
    request.scopes = ["openid", "habilitations"]
    request.access_token = None
    claims = oauth2_settings.OAUTH2_VALIDATOR_CLASS().get_userinfo_claims(request)
    return claims["habilitations"]


def roles_by_siret(claim: list[dict]) -> dict[str, list[tuple[str, bool]]]:
    return {
        entry["siret"]: [(role["code"], role["gestionnaire"]) for role in entry["roles"]]
        for entry in claim
    }


def assert_back_to_previous_schema(executor):
    applied = set(executor.loader.applied_migrations)
    assert set(PREVIOUS_SCHEMA) <= applied
    for app, name in MIGRATE_BACK_TO:
        kept = set(executor.loader.graph.forwards_plan((app, name))) if name else set()
        beyond = {node for node in applied if node[0] == app and node not in kept}
        assert beyond == set(), f"{app} is not back to {name}"


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_previous_schema_upgrades_with_every_row_working():
    executor = MigrationExecutor(connection)
    recorder = Recorder()
    try:
        executor.migrate(MIGRATE_BACK_TO)
        executor.loader.build_graph()  # what is applied now
        assert_back_to_previous_schema(executor)

        old = executor.loader.project_state(PREVIOUS_SCHEMA).apps
        with transaction.atomic():
            pks = fill(old, recorder)
        regions_before = sorted(
            old.get_model(THEN["AgentProfile"])
            .objects.get(user_id=pks["agent"])
            .regions.values_list("code", flat=True)
        )
        before = primary_keys(lambda name: old.get_model(THEN[name]))
    finally:
        # Forward to the latest migrations, whatever happened: the next tests need that schema.
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    executor.loader.build_graph()
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []

    def now_model(name):
        return current_apps.get_model(NOW[name])

    # Every row, under the same primary key.
    assert primary_keys(now_model) == before

    # Every relation recorded from the historical data resolves the same way now.
    wrong = []
    for name, pk, path, value in recorder.expected:
        found = resolve(now_model(name)._base_manager.get(pk=pk), path)
        if found != value:
            wrong.append((name, pk, path, value, found))
    assert wrong == []
    agent = now_model("AgentProfile").objects.get(user_id=pks["agent"])
    assert sorted(agent.regions.values_list("code", flat=True)) == regions_before == ["11", "52"]

    # Still working: CERES gets the same habilitations claim, the gestionnaire the same perimeter.
    user = now_model("User")
    ceres = now_model("Demarche").objects.get(code=CERES)
    assert ceres.oidc_client_id == CLIENT_ID
    guy = ceres_claim(user.objects.get(pk=pks["guy"]), ceres.oidc_client_id)
    assert roles_by_siret(guy) == {NANTES: [(CENTRE_AGREE, False), (GESTIONNAIRE, True)]}
    assert [site["siret"] for site in guy[0]["sites_lies"]] == [SAINT_NAZAIRE, FORMAPRO]
    delegate = ceres_claim(user.objects.get(pk=pks["tiers"]), ceres.oidc_client_id)
    assert roles_by_siret(delegate) == {NANTES: [(CENTRE_AGREE, False)]}
    claire = ceres_claim(user.objects.get(pk=pks["claire"]), ceres.oidc_client_id)
    assert roles_by_siret(claire) == {SAINT_NAZAIRE: [(CENTRE_AGREE, False)]}  # not the revoked

    perimeter = managed_establishment_ids(user.objects.get(pk=pks["guy"]), ceres)
    assert perimeter == sorted([pks["nantes"], pks["saint_nazaire"], pks["formapro"]])
