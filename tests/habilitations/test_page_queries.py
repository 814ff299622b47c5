"""The SQL statements of the pages bench/pages.py measures, pinned: a page that needs one more
query must say why here (issue 16). The test's transaction turns BEGIN into a savepoint pair."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portail.habilitations import access_requests, flows
from portail.habilitations.models import Habilitation
from tests.factories import PASSWORD, DemarcheFactory, RoleFactory
from tests.habilitations.factories import company, habilitate, person

pytestmark = pytest.mark.django_db

CONTROL = ("SAVEPOINT", "RELEASE", "BEGIN", "ROLLBACK")


def statements(client: Client, method: str, path: str, data=None, status=200) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    assert response.status_code == status, response.status_code
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(CONTROL)]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/demarches/")  # the session's first save is behind
    return client


def test_the_login_form_needs_no_query(ceres):
    assert statements(Client(), "get", "/") == []


def test_a_login_takes_its_limit_slots_then_writes_the_session(ceres):
    user = person("Zoé", "Banc", email="zoe@banc.fr")
    sql = statements(Client(), "post", "/", {"email": user.email, "password": PASSWORD}, status=302)
    # A slot taken on each rate limit in one transaction, both given back in one statement
    # (decision 0012; 4 transactions of one statement each before decision 0014's third
    # session): 5 for keys never seen (each read finding nothing, then inserted: 3 before the
    # fifth session, which reads first because rows stay and most keys are known); the account, with whether it has a second factor (one statement since that
    # session); last_login, the journal and the browser remembered (the account's first: one
    # insert that says whether the account has another; in the login's transaction since that
    # session, continued: an "exists" and a transaction of its own before); with the response, the new session's row and its row in "Mes
    # sessions et appareils", inserted together (decision 0014: no more "is the key free", empty
    # insert and update). On PostgreSQL each rate-limit transaction also says it need not wait
    # for the disk (SET LOCAL, decision 0012). Since decision 0014's sixth session the slots
    # are given back, and the session's rows inserted, inside the login's transaction: two
    # transactions, not four; the giving back then commits as the login does (no SET LOCAL).
    assert len(sql) == (12 if connection.vendor == "postgresql" else 11), sql
    assert sum("core_ratelimitstate" in s for s in sql) == 5
    assert sum(s.startswith("SET LOCAL") for s in sql) == (
        1 if connection.vendor == "postgresql" else 0
    )
    assert [s.split(" (")[0] for s in sql if "django_session" in s or "usersession" in s] == [
        'INSERT INTO "django_session"',
        'INSERT INTO "accounts_usersession"',
    ]


def test_a_login_from_a_new_browser_writes_its_notice_in_the_login_s_transaction(ceres):
    user = person("Zoé", "Banc", email="zoe@banc.fr")
    first = Client()
    first.post("/", {"email": user.email, "password": PASSWORD})
    with CaptureQueriesContext(connection) as captured:
        response = Client().post("/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    sql = [q["sql"] for q in captured.captured_queries]
    # As the first login (its limits' rows there already: each read locked and updated, four
    # statements; six before decision 0014's fifth session, an insert tried first),
    # then the journal line and the email of the new browser: written with last_login and the
    # login's journal line, in one transaction (a savepoint here); four transactions in all:
    # the limits, their giving back, the login, the session (before decision 0014's third
    # session, continued: five, and one statement more, "has the account a browser already").
    # Since the sixth session two: the limits, then the login with their giving back and the
    # session's rows (the response writes nothing more).
    assert len([s for s in sql if not s.startswith(CONTROL)]) == (
        14 if connection.vendor == "postgresql" else 13
    ), sql
    assert sum("core_ratelimitstate" in s for s in sql) == 5
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 2
    writes = [s.split(" (")[0].split(" SET")[0] for s in sql if s.startswith(("INSERT", "UPDATE"))]
    assert writes[-8:] == [
        'UPDATE "core_ratelimitstate"',
        'UPDATE "accounts_user"',
        'INSERT INTO "django_session"',
        'INSERT INTO "accounts_usersession"',
        'INSERT INTO "audit_auditevent"',
        'INSERT INTO "accounts_knownbrowser"',
        'INSERT INTO "audit_auditevent"',
        'INSERT INTO "notifications_outboxemail"',
    ], sql
    # All of them in the login's one transaction: nothing written after its end.
    last_release = max(i for i, s in enumerate(sql) if s.startswith("RELEASE"))
    assert not any(s.startswith(("INSERT", "UPDATE")) for s in sql[last_release:]), sql


@pytest.mark.parametrize("held", [0, 1, 20])
def test_mes_demarches(ceres, held):
    head, _site = company(11)
    user = person("Unice", "Banc", head)
    roles = [ceres.roles.get(code="centre-agree")] + [
        RoleFactory(demarche=DemarcheFactory()) for _ in range(held - 1)
    ]
    for role in roles[:held]:
        habilitate(user, role, head)
    # The session with its user (one statement, portail.accounts.session_user), the active
    # démarches with the person's live habilitations (one statement since decision 0014's third
    # session, continued: portail.habilitations.catalogue; two before), has the person
    # invitations or access requests waiting (one statement; the lists read only when some
    # are): the same three whatever the number of démarches.
    assert len(statements(signed_in(user), "get", "/demarches/")) == 3


def test_mes_demarches_with_an_invitation_and_a_request_waiting(ceres):
    head, site = company(11)
    user = person("Unice", "Banc", head)
    centre = ceres.roles.get(code="centre-agree")
    gestionnaire = person("Gaston", "Banc", head)
    habilitate(gestionnaire, ceres.roles.get(code="gestionnaire-centres"), head)
    flows.invite(
        actor=gestionnaire, demarche=ceres, role=centre, establishment=head, invited_user=user
    )
    access_requests.request_access(user=user, demarche=ceres, siret=site.siret, role=centre)
    # The three, then each list: five.
    sql = statements(signed_in(user), "get", "/demarches/")
    assert len(sql) == 5, sql


def test_mon_compte(ceres):
    user = person("Unice", "Banc")
    # The session with its user: one statement (portail.accounts.session_user).
    assert len(statements(signed_in(user), "get", "/mon-compte/")) == 1


@pytest.mark.parametrize(("people", "expected"), [(5, 6), (60, 6), (120, 6)])
def test_the_management_page_does_not_grow_with_the_company(ceres, people, expected):
    # The démarche with its roles and the managing SIRENs, then the establishments they cover
    # (with what the search and the invitation form show of them): two plain statements, the
    # invitation form's (invitation_scope; four before decision 0014's sixth session: the
    # démarche, the scope's ids, its establishments, the roles). The people's counts and their
    # page are one statement each (people_rows), whatever the roles on the page.
    # Whether there are invitations, access requests, messages or access reviews: one statement
    # (management_lists), and none of those lists read here, where there is none. The session
    # and its user: one statement.
    head, site = company(11)
    manager = ceres.roles.get(code="gestionnaire-centres")
    centre = ceres.roles.get(code="centre-agree")
    gestionnaire = person("Gaston", "Banc", head)
    habilitate(gestionnaire, manager, head, origin=Habilitation.Origin.ACTIVATION_CODE)
    for n in range(people - 1):
        habilitate(person("Collègue", "Banc", site, email=f"c{n}@banc.fr"), centre, site)
    assert len(statements(signed_in(gestionnaire), "get", "/habilitations/ceres/")) == expected


def test_the_invitation_form(ceres):
    head, _site = company(11)
    gestionnaire = person("Gaston", "Banc", head)
    manager = ceres.roles.get(code="gestionnaire-centres")
    habilitate(gestionnaire, manager, head, origin=Habilitation.Origin.ACTIVATION_CODE)
    # The session and its user are one statement (portail.accounts.session_user); the démarche
    # with its roles and the managing SIRENs, then the establishments they cover, two plain
    # statements (portail.habilitations.invitation_scope; five through the ORM).
    assert len(statements(signed_in(gestionnaire), "get", "/habilitations/ceres/inviter/")) == 3
