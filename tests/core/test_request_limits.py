"""Bad input at the door: a body too large is refused from its announced length, before it is
read; one within the bounds gets the form's French messages."""

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_huge_body_is_refused_before_it_is_sent(live_server):
    address = urlsplit(live_server.url)
    announced = 200 * 1024 * 1024
    started = time.monotonic()
    with socket.create_connection((address.hostname, address.port), timeout=10) as client:
        client.sendall(
            (
                "POST / HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {announced}\r\n\r\n"
                "email=a%40exemple.fr&password="
            ).encode()
        )
        # Nothing more is sent: the answer must come without the 200 MiB.
        answer = b""
        while b"</html>" not in answer and (chunk := client.recv(65536)):
            answer += chunk
    text = answer.decode()
    assert text.startswith("HTTP/1.1 400"), text[:200]
    assert "Requête incorrecte" in text  # the portal's French page
    assert time.monotonic() - started < 5


def test_a_large_field_within_the_limit_gets_a_french_message(live_server):
    session = requests.Session()
    page = session.get(f"{live_server.url}/", timeout=10)
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    password = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - 1000)
    response = session.post(
        f"{live_server.url}/",
        data={"email": "a@exemple.fr", "password": password, "csrfmiddlewaretoken": token},
        timeout=10,
    )
    session.close()
    assert response.status_code == 200
    assert "Requête incorrecte" not in response.text
    assert "au plus 4096 caractères" in response.text  # the field's bound, said in French
