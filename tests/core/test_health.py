"""The health check's registry: what the apps register shows up in `/healthz`."""

import logging

import pytest

from portail.core import health

pytestmark = pytest.mark.django_db


@pytest.fixture
def checks(monkeypatch):
    """The registry as the apps left it, restored after the test."""
    monkeypatch.setattr(health, "CHECKS", dict(health.CHECKS))
    return health.CHECKS


def test_notifications_registers_the_outbox_figures():
    assert {"outbox_pending", "outbox_failed"} <= set(health.CHECKS)


def test_a_registered_check_shows_up_under_its_name(client, checks):
    health.register("widgets_waiting", lambda: 3)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "outbox_pending": 0,
        "outbox_failed": 0,
        "cache": {"backend": "database", "status": "ok"},
        "widgets_waiting": 3,
    }


def test_a_failing_check_makes_the_health_check_fail(client, checks, caplog):
    def broken():
        raise RuntimeError("broken check")

    health.register("broken", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert "broken check" in caplog.text
