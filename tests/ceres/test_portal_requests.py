"""CERES' requests to the portal sent by urllib3 (ceres.web.portal_requests), against what
requests sent and raised: the same request on the wire, the same answer of the live portal, the
same exceptions (a portal that does not answer, too slowly, with a certificate not trusted), the
same CA bundle and proxy taken from the environment."""

import contextlib
import datetime
import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.auth import HTTPBasicAuth

from ceres.web.portal_requests import Answer, PortalRequests, _pool_for, basic_authorization
from tests.ceres.server import CLIENT_ID, CLIENT_SECRET, CeresServer, free_port
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db  # the suite's autouse fixtures clear the cache (in the database)

FIELDS = {
    "client_id": "ceres-client",
    "grant_type": "authorization_code",
    "code": "abc/+=é",
    "redirect_uri": "https://ceres.example/oidc/callback/?a=1&b=2",
    "code_verifier": "v" * 43,
}


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        answer = b'{"access_token": "\xc3\xa9"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    """A refused handshake (the certificate not trusted) is the test's point, not an error."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with contextlib.suppress(OSError, ValueError):
            super().shutdown_request(request)


@pytest.fixture
def recorder() -> Iterator[tuple[str, list]]:
    seen: list = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/o/token/", seen
    server.shutdown()
    server.server_close()


def test_the_token_request_is_requests_on_the_wire(recorder):
    url, seen = recorder
    with requests.Session() as session:
        before = session.post(url, data=FIELDS, auth=HTTPBasicAuth("ceres-client", "sécret"))
    after = PortalRequests().post_form(
        url, FIELDS, basic_authorization("ceres-client", "sécret"), timeout=5
    )

    (path, sent_before, body_before), (path_after, sent_after, body_after) = seen
    assert (path_after, body_after) == (path, body_before)
    for header in ("authorization", "content-type", "content-length", "host", "accept"):
        assert sent_after[header] == sent_before[header], header
    assert (after.status_code, after.content, after.json()) == (
        before.status_code,
        before.content,
        before.json(),
    )
    assert after.headers["content-type"] == before.headers["content-type"]


@pytest.mark.django_db(transaction=True)
def test_the_live_portal_answers_the_same(live_server, tmp_path):
    # A code the portal never issued, client authenticated: its RFC 6749 refusal, as requests got it.
    from tests.ceres.fixtures import register_ceres

    register_ceres(CeresServer(live_server.url, tmp_path))
    url = f"{live_server.url}/o/token/"
    fields = {**FIELDS, "client_id": CLIENT_ID}
    before = requests.post(
        url, data=fields, auth=HTTPBasicAuth(CLIENT_ID, CLIENT_SECRET), timeout=5
    )
    client = PortalRequests()
    try:
        after = client.post_form(
            url, fields, basic_authorization(CLIENT_ID, CLIENT_SECRET), timeout=5
        )
        assert before.status_code == 400
        assert (after.status_code, after.json()) == (before.status_code, before.json())
        assert after.json()["error"] == "invalid_grant"
        assert after.headers["Cache-Control"] == before.headers["Cache-Control"]
        # The JWKS, as CERES reads it: the same document.
        jwks = f"{live_server.url}/o/.well-known/jwks.json"
        got = client.send("GET", jwks, headers={}, timeout=5)
        assert got.json() == requests.get(jwks, timeout=5).json()
    finally:
        client.close()  # the live server's thread would wait on the kept connection


def _failures(url: str, timeout: float) -> tuple[type, type]:
    with pytest.raises(requests.RequestException) as before:
        requests.post(url, data=FIELDS, timeout=timeout)
    with pytest.raises(requests.RequestException) as after:
        PortalRequests().post_form(url, FIELDS, None, timeout=timeout)
    return type(before.value), type(after.value)


def test_a_portal_that_does_not_listen_raises_what_requests_raised():
    before, after = _failures(f"http://127.0.0.1:{free_port()}/o/token/", 2)
    assert after is before is requests.ConnectionError


def test_a_portal_that_does_not_answer_in_time_raises_what_requests_raised():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(4)  # accepted by the kernel, never answered
        before, after = _failures(f"http://127.0.0.1:{listening.getsockname()[1]}/o/token/", 0.3)
    assert after is before is requests.ReadTimeout


def test_an_answer_that_is_not_json_raises_what_requests_raised():
    answer = Answer.__new__(Answer)
    answer.content = b"<html>Bad gateway</html>"
    with pytest.raises(requests.JSONDecodeError):
        answer.json()


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "portal.pem", folder / "portal.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_ca_bundle_of_the_environment_is_trusted_as_requests_trusted_it(
    recorder, tmp_path, monkeypatch
):
    _, seen = recorder
    cert, key = _certificate(tmp_path)
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = _Server(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/o/token/"
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        # certifi's bundle does not know the certificate: both refuse.
        before, after = _failures(url, 5)
        assert after is before is requests.exceptions.SSLError
        # The environment names it: both trust it.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        assert requests.post(url, data=FIELDS, timeout=5).status_code == 200
        assert PortalRequests().post_form(url, FIELDS, None, timeout=5).status_code == 200
        # OIDC_VERIFY_SSL=False: neither checks, both warn.
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")
        with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
            unchecked_before = requests.post(url, data=FIELDS, verify=False, timeout=5)  # noqa: S501
        assert unchecked_before.status_code == 200
        with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
            unchecked = PortalRequests().post_form(url, FIELDS, None, verify=False, timeout=5)
        assert unchecked.status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_the_proxy_of_the_environment_is_used_as_requests_used_it(monkeypatch):
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    portal = "https://portail.example/o/token/"
    assert type(_pool_for(portal, True)) is urllib3.PoolManager

    monkeypatch.setenv("HTTPS_PROXY", "http://moi:mot%20de%20passe@proxy.example:3128")
    proxied = _pool_for(portal, True)
    assert isinstance(proxied, urllib3.ProxyManager)
    assert str(proxied.proxy) == "http://moi:mot%20de%20passe@proxy.example:3128"
    assert proxied.proxy_headers == urllib3.make_headers(proxy_basic_auth="moi:mot de passe")
    with requests.Session() as session:
        adapter = session.get_adapter(portal)
        theirs = adapter.proxy_headers("http://moi:mot%20de%20passe@proxy.example:3128")
        assert {k.lower(): v for k, v in theirs.items()} == proxied.proxy_headers

    monkeypatch.setenv("NO_PROXY", "portail.example")
    assert type(_pool_for(portal, True)) is urllib3.PoolManager


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_portal_that_does_not_answer_gives_the_sign_in_failure_page(live_server, tmp_path):
    from tests.ceres.fixtures import portal_session_cookie, register_ceres

    ceres = CeresServer(
        live_server.url,
        tmp_path,
        CERES_OIDC_TOKEN_ENDPOINT=f"http://127.0.0.1:{free_port()}/o/token/",
    ).start()
    try:
        register_ceres(ceres)
        cookie = portal_session_cookie(UserFactory(), live_server.url)
        with requests.Session() as portal, requests.Session() as http:
            portal.cookies.set(cookie["name"], cookie["value"])
            start = http.get(f"{ceres.url}/", allow_redirects=False, timeout=10)
            at_portal = portal.get(start.headers["Location"], allow_redirects=False, timeout=10)
            answer = http.get(at_portal.headers["Location"], allow_redirects=False, timeout=20)

            assert answer.status_code == 400
            assert "Connexion impossible" in answer.text
            assert "Sign-in refused: ConnectionError" in ceres.log.read_text()
            after = http.get(f"{ceres.url}/", allow_redirects=False, timeout=10)
            assert after.headers["Location"].startswith(f"{live_server.url}/o/authorize/?")
    finally:
        ceres.stop()
