""" "Mes sessions et appareils": the list, ending sessions, another person's session id refused,
the new-browser email through the real SMTP catcher, the browser and system read, the IP masked."""

import logging
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portail.accounts import user_sessions
from portail.accounts.models import KnownBrowser, UserSession
from portail.accounts.user_agent import parse
from portail.accounts.user_sessions import SEEN_KEY, mask_ip
from portail.audit.models import AuditEvent
from portail.core import housekeeping
from portail.notifications.models import OutboxEmail
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)

OPERA_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0"
)
SAMSUNG_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
)
CHROME_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"
)


def browser(user_agent: str = FIREFOX_WINDOWS, ip: str = "203.0.113.42") -> Client:
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


def log_in(client: Client, email: str) -> None:
    response = client.post("/", {"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]


def page(client: Client) -> str:
    response = client.get("/mon-compte/sessions/")
    assert response.status_code == 200
    return response.content.decode().replace("&#x27;", "'")


def test_every_session_is_listed_with_browser_system_masked_ip_and_this_one_marked():
    user = UserFactory(email="anne@exemple.fr")
    laptop, phone = browser(FIREFOX_WINDOWS, "203.0.113.42"), browser(SAFARI_IPHONE, "2001:db8::1")
    log_in(laptop, user.email)
    log_in(phone, user.email)
    html = page(laptop)
    assert "Firefox 132 sur Windows 10 ou 11" in html
    assert "Safari 17 sur iOS 17" in html
    assert "203.0.113.xxx" in html
    assert "203.0.113.42" not in html
    assert "2001:0db8:0000:…" in html
    assert html.count("Cette session") == 1
    assert html.index("Cette session") < html.index("Safari 17")  # the current one first
    for row in UserSession.objects.all():
        assert row.session_id not in html  # the key is never shown; forms carry the row's id
    assert str(UserSession.objects.get(browser="Safari 17").pk) in html
    assert "Fermer toutes les autres sessions (1)" in html
    assert 'href="/mon-compte/sessions/"' in laptop.get("/mon-compte/").content.decode()


def test_ending_a_session_logs_that_browser_out_at_its_next_request():
    user = UserFactory(email="anne@exemple.fr")
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user.email)
    log_in(phone, user.email)
    assert phone.get("/mon-compte/").status_code == 200
    target = UserSession.objects.get(browser="Safari 17")
    response = laptop.post("/mon-compte/sessions/fermer/", {"session": str(target.pk)})
    assert response.status_code == 302
    assert "La session a été fermée" in page(laptop)
    assert not UserSession.objects.filter(pk=target.pk).exists()
    assert not Session.objects.filter(session_key=target.session_id).exists()
    assert phone.get("/mon-compte/")["Location"].startswith("/connexion/")
    assert laptop.get("/mon-compte/").status_code == 200  # this one goes on
    event = AuditEvent.objects.get(action="account.session_ended")
    assert event.data == {"session": str(target.pk), "browser": "Safari 17", "system": "iOS 17"}
    assert event.actor_id == user.pk


def test_session_keys_never_reach_the_logs_nor_the_journal(caplog):
    user = UserFactory(email="anne@exemple.fr")
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    with caplog.at_level(logging.DEBUG):
        log_in(laptop, user.email)
        log_in(phone, user.email)
        keys = list(UserSession.objects.values_list("session_id", flat=True))
        for client in (laptop, phone):
            page(client)
        laptop.post("/mon-compte/sessions/fermer-les-autres/")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    journal = str(list(AuditEvent.objects.values_list("data", flat=True)))
    assert "ended 1 session(s)" in logged
    for key in keys:
        assert key not in logged
        assert key not in journal


def test_another_persons_session_id_is_refused_and_nothing_ends():
    anne, bruno = UserFactory(email="anne@exemple.fr"), UserFactory(email="bruno@exemple.fr")
    anne_browser, bruno_browser = browser(), browser(SAFARI_IPHONE)
    log_in(anne_browser, anne.email)
    log_in(bruno_browser, bruno.email)
    bruno_session = UserSession.objects.get(user=bruno)
    response = anne_browser.post("/mon-compte/sessions/fermer/", {"session": str(bruno_session.pk)})
    assert response.status_code == 302
    assert "rien n'a été fermé" in page(anne_browser)
    assert UserSession.objects.count() == 2
    assert Session.objects.filter(session_key=bruno_session.session_id).exists()
    assert bruno_browser.get("/mon-compte/").status_code == 200
    assert not AuditEvent.objects.filter(action="account.session_ended").exists()


@pytest.mark.parametrize(
    "value", ["", "pas-un-identifiant", "00000000-0000-0000-0000-000000000000"]
)
def test_a_forged_session_id_is_refused_in_french(value):
    user = UserFactory(email="anne@exemple.fr")
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user.email)
    log_in(phone, user.email)
    laptop.post("/mon-compte/sessions/fermer/", {"session": value})
    assert "rien n'a été fermé" in page(laptop)
    assert UserSession.objects.count() == 2


def test_the_current_session_is_not_ended_from_the_list():
    user = UserFactory(email="anne@exemple.fr")
    laptop = browser()
    log_in(laptop, user.email)
    mine = UserSession.objects.get()
    laptop.post("/mon-compte/sessions/fermer/", {"session": str(mine.pk)})
    assert "utilisez « Se déconnecter »" in page(laptop)
    assert UserSession.objects.filter(pk=mine.pk).exists()


def test_ending_every_other_session():
    user = UserFactory(email="anne@exemple.fr")
    laptop, phone, tablet = browser(), browser(SAFARI_IPHONE), browser(CHROME_ANDROID)
    for client in (laptop, phone, tablet):
        log_in(client, user.email)
    other = UserFactory(email="bruno@exemple.fr")
    bruno = browser()
    log_in(bruno, other.email)
    laptop.post("/mon-compte/sessions/fermer-les-autres/")
    assert "2 autre(s) session(s) fermée(s)." in page(laptop)
    assert list(UserSession.objects.filter(user=user).values_list("browser", flat=True)) == [
        "Firefox 132"
    ]
    assert phone.get("/mon-compte/").status_code == 302
    assert tablet.get("/mon-compte/").status_code == 302
    assert bruno.get("/mon-compte/").status_code == 200  # someone else's session: untouched
    assert AuditEvent.objects.filter(action="account.session_ended").count() == 2


def test_pages_need_a_login_and_the_changes_need_post_and_csrf():
    user = UserFactory(email="anne@exemple.fr")
    anonymous = browser()
    for path in ("/mon-compte/sessions/", "/mon-compte/sessions/fermer/"):
        assert anonymous.get(path)["Location"].startswith("/connexion/")
    assert anonymous.post("/mon-compte/sessions/fermer-les-autres/")["Location"].startswith(
        "/connexion/"
    )
    laptop = browser()
    log_in(laptop, user.email)
    assert laptop.get("/mon-compte/sessions/fermer/").status_code == 405
    assert laptop.get("/mon-compte/sessions/fermer-les-autres/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/mon-compte/sessions/fermer-les-autres/").status_code == 403
    assert UserSession.objects.filter(user=user).count() == 2


def test_logout_and_expiry_remove_the_row_and_a_change_of_key_keeps_it():
    user = UserFactory(email="anne@exemple.fr")
    laptop = browser()
    log_in(laptop, user.email)
    row = UserSession.objects.get()
    # Changing the password from "Mon compte" gives the session a new key: the row follows it.
    new = "Un tout nouveau mot de passe"
    response = laptop.post(
        "/mon-compte/mot-de-passe/",
        {"current_password": PASSWORD, "password1": new, "password2": new},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.session_id == laptop.session.session_key
    assert "Cette session" in page(laptop)
    laptop.post("/deconnexion/")
    assert not UserSession.objects.exists()


def test_sessions_left_by_a_password_reset_are_not_listed():
    user = UserFactory(email="anne@exemple.fr")
    laptop, phone = browser(), browser(SAFARI_IPHONE)
    log_in(laptop, user.email)
    log_in(phone, user.email)
    user.set_password("Un tout nouveau mot de passe")
    user.save()
    log_in_again = browser(CHROME_ANDROID)
    log_in_again.post("/", {"email": user.email, "password": "Un tout nouveau mot de passe"})
    html = page(log_in_again)
    assert "Chrome 131" in html
    assert "Safari 17" not in html  # dead: the password hash they hold is stale
    assert "Firefox 132" not in html


def test_last_activity_is_written_at_most_once_a_minute(django_assert_num_queries):
    user = UserFactory(email="anne@exemple.fr")
    laptop = browser()
    log_in(laptop, user.email)
    row = UserSession.objects.get()
    seen = row.last_seen_at
    laptop.get("/mon-compte/")
    row.refresh_from_db()
    assert row.last_seen_at == seen  # within the minute: not written
    session = laptop.session
    session[SEEN_KEY] = int(time.time()) - 61
    session.save()
    laptop.get("/mon-compte/")
    row.refresh_from_db()
    assert row.last_seen_at > seen


def test_a_session_opened_before_the_index_gets_its_row_at_its_next_request():
    user = UserFactory(email="anne@exemple.fr")
    laptop = browser()
    log_in(laptop, user.email)
    UserSession.objects.all().delete()
    session = laptop.session
    del session[SEEN_KEY]
    session.save()
    assert laptop.get("/mon-compte/").status_code == 200
    assert UserSession.objects.get().session_id == laptop.session.session_key


# --- new browsers -------------------------------------------------------------------------------


def test_a_new_browser_is_emailed_once_and_never_for_the_first_or_the_same_again(mailbox):
    user = UserFactory(email="anne@exemple.fr")
    laptop = browser()
    log_in(laptop, user.email)  # the account's first browser: nothing to tell
    assert not OutboxEmail.objects.exists()
    assert KnownBrowser.objects.filter(user=user).count() == 1

    phone = browser(SAFARI_IPHONE, "198.51.100.7")
    log_in(phone, user.email)
    message = mailbox.wait_for(user.email, "Nouvelle connexion")
    assert "Safari 17 sur iOS 17" in message.text
    assert "198.51.100.xxx" in message.text
    assert "198.51.100.7" not in message.text
    assert mailbox.link(message, "/mon-compte/sessions/")
    event = AuditEvent.objects.get(action="account.new_browser_login")
    assert event.data == {"browser": "Safari 17", "system": "iOS 17"}

    # The same browsers again (they keep their cookie), even after a logout: no new email.
    for client in (phone, laptop):
        client.post("/deconnexion/")
        log_in(client, user.email)
    assert OutboxEmail.objects.filter(recipient=user.email).count() == 1
    assert AuditEvent.objects.filter(action="account.new_browser_login").count() == 1

    # The same user agent without the cookie (another device, or cookies cleared) is new.
    log_in(browser(SAFARI_IPHONE, "198.51.100.7"), user.email)
    assert OutboxEmail.objects.filter(recipient=user.email).count() == 2


def test_the_browser_s_one_statement_tells_of_a_new_browser_only_beside_another():
    # `_remember` inserts the browser and says, in the same statement, whether to tell the owner
    # (hand-written SQL: each case below is a condition it could get wrong).
    anne, bruno = UserFactory(email="anne@exemple.fr"), UserFactory(email="bruno@exemple.fr")
    described = {"browser": "Safari 17", "system": "iOS 17", "ip_masked": ""}
    now = timezone.now()
    remember = user_sessions._remember
    assert not remember(anne, "a" * 64, described, now)  # the account's first
    assert remember(anne, "b" * 64, described, now)  # beside the first: told
    assert not remember(anne, "b" * 64, described, now)  # the same at once: there, no error
    assert not remember(bruno, "a" * 64, described, now)  # anne's browser is bruno's first
    assert remember(bruno, "c" * 64, described, now)
    rows = KnownBrowser.objects.order_by("user_id", "device_hash")
    assert [(r.user_id, r.device_hash[0]) for r in rows] == [
        (anne.pk, "a"),
        (anne.pk, "b"),
        (bruno.pk, "a"),
        (bruno.pk, "c"),
    ]
    row = rows[1]
    assert (row.browser, row.system, row.first_seen_at, row.last_seen_at) == (
        "Safari 17",
        "iOS 17",
        now,
        now,
    )


def test_a_browser_known_to_one_account_is_new_to_another(mailbox):
    anne, bruno = UserFactory(email="anne@exemple.fr"), UserFactory(email="bruno@exemple.fr")
    log_in(browser(), bruno.email)  # bruno's first browser
    shared = browser(SAFARI_MAC)
    log_in(shared, anne.email)
    shared.post("/deconnexion/")
    log_in(shared, bruno.email)
    message = mailbox.wait_for(bruno.email, "Nouvelle connexion")
    assert "Safari 18 sur macOS" in message.text
    assert not OutboxEmail.objects.filter(recipient=anne.email).exists()


def test_browsers_not_seen_for_400_days_are_forgotten_by_the_housekeeping():
    user = UserFactory(email="anne@exemple.fr")
    log_in(browser(), user.email)
    log_in(browser(SAFARI_IPHONE), user.email)
    old = KnownBrowser.objects.filter(user=user).first()
    KnownBrowser.objects.filter(pk=old.pk).update(last_seen_at=timezone.now() - timedelta(days=401))
    assert housekeeping.run()["known_browsers_forgotten"] == 1
    assert KnownBrowser.objects.filter(user=user).count() == 1


def test_a_forged_browser_cookie_counts_as_no_cookie():
    user = UserFactory(email="anne@exemple.fr")
    log_in(browser(), user.email)
    forged = browser()
    forged.cookies[user_sessions.BROWSER_COOKIE] = "un-jeton-invente"
    log_in(forged, user.email)
    assert OutboxEmail.objects.filter(subject__contains="Nouvelle connexion").count() == 1
    cookie = forged.cookies[user_sessions.BROWSER_COOKIE]
    assert cookie.value != "un-jeton-invente"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 400 * 24 * 3600


# --- reading the user agent, masking the address ------------------------------------------------


@pytest.mark.parametrize(
    ("header", "browser_label", "system"),
    [
        (FIREFOX_WINDOWS, "Firefox 132", "Windows 10 ou 11"),
        (SAFARI_IPHONE, "Safari 17", "iOS 17"),
        (CHROME_ANDROID, "Chrome 131", "Android 14"),
        (EDGE_WINDOWS, "Edge 131", "Windows 10 ou 11"),
        (SAFARI_MAC, "Safari 18", "macOS"),
        (
            OPERA_LINUX,
            "Opera 115",
            "Linux",
        ),
        (
            SAMSUNG_ANDROID,
            "Samsung Internet 26",
            "Android 13",
        ),
        (
            CHROME_IPAD,
            "Chrome 124",
            "iPadOS 17",
        ),
        ("curl/8.5.0", "Navigateur inconnu", "Système inconnu"),
        ("", "Navigateur inconnu", "Système inconnu"),
    ],
)
def test_browser_and_system_are_read_from_the_user_agent(header, browser_label, system):
    agent = parse(header)
    assert (agent.browser, agent.system) == (browser_label, system)


@pytest.mark.parametrize(
    ("ip", "masked"),
    [
        ("203.0.113.42", "203.0.113.xxx"),
        ("2001:db8:85a3::8a2e:370:7334", "2001:0db8:85a3:…"),
        ("", ""),
        (None, ""),
        ("pas une adresse", ""),
    ],
)
def test_the_ip_address_is_partly_masked(ip, masked):
    assert mask_ip(ip) == masked


def test_a_login_writes_its_session_row_and_its_index_once_with_the_response(
    django_assert_num_queries,
):
    user = UserFactory(email="bea@exemple.fr")
    laptop = browser()
    log_in(laptop, user.email)
    session = Session.objects.get()
    row = UserSession.objects.get()
    assert (row.session_id, row.user) == (session.session_key, user)
    assert session.session_key == laptop.cookies["sessionid"].value
    assert session.get_decoded()[user_sessions.USER_SESSION_KEY] == str(row.pk)
    # The next page reads the session with its user (one statement), and writes nothing.
    with django_assert_num_queries(1):
        assert laptop.get("/connexion/").status_code == 302
    assert "Cette session" in page(laptop)


# Outside any transaction, as the response's save runs: in a caller's transaction (the login's)
# the insert joins it without a savepoint, and a key taken there fails instead (below).
@pytest.mark.django_db(transaction=True)
def test_a_new_session_whose_key_is_taken_draws_another_and_its_index_follows():
    from django.contrib.sessions.backends.base import CreateError

    from portail.accounts.session_store import SessionStore

    user = UserFactory()
    store = SessionStore()
    store.create()
    taken = store.session_key
    Session.objects.create(session_key=taken, session_data="", expire_date=timezone.now())
    row = UserSession(user=user)
    store.index_once_written(row)
    store["a"] = 1
    store.save()
    assert store.session_key != taken
    assert UserSession.objects.get().session_id == store.session_key
    assert SessionStore(store.session_key)["a"] == 1
    assert not store.insert_pending
    # A row that cannot be written (its id taken) fails after three keys, without a loop.
    other = SessionStore()
    other.create()
    other.index_once_written(UserSession(id=row.pk, user=user))
    with pytest.raises(CreateError):
        other.save()
    assert Session.objects.count() == 2


def test_a_session_inserted_in_the_login_s_transaction_is_not_written_again_unless_changed():
    from django.contrib.sessions.backends.base import CreateError

    from portail.accounts.session_store import SessionStore

    store = SessionStore()
    store["a"] = 1
    with transaction.atomic():
        store.save()
    # The response's save: nothing changed since the insert, nothing written.
    with CaptureQueriesContext(connection) as unchanged:
        store.save()
    assert unchanged.captured_queries == []
    store["a"] = 2  # changed since: saved as Django would
    store.save()
    assert SessionStore(store.session_key)["a"] == 2
    # A key taken inside a transaction fails at once: the error has spoiled the transaction.
    other = SessionStore()
    other.create()
    Session.objects.create(
        session_key=other.session_key, session_data="", expire_date=timezone.now()
    )
    with pytest.raises(CreateError), transaction.atomic():
        other.save()


def test_a_second_change_of_key_before_the_insert_keeps_the_waiting_index():
    from portail.accounts.session_store import SessionStore

    user = UserFactory()
    store = SessionStore()
    store.create()
    first = store.session_key
    row = UserSession(user=user)
    store.index_once_written(row)
    store[user_sessions.USER_SESSION_KEY] = str(row.pk)
    store.cycle_key()  # as an agent's or a second factor's login does after Django's
    assert store.session_key != first
    store.save()
    assert UserSession.objects.get().session_id == store.session_key
    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]


def test_a_session_ended_before_its_insert_writes_no_index():
    from portail.accounts.session_store import SessionStore

    store = SessionStore()
    store.create()
    store.index_once_written(UserSession(user=UserFactory()))
    store.flush()
    store["a"] = 1
    store.save()
    assert not UserSession.objects.exists()
    assert Session.objects.count() == 1
