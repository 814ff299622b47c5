"""Figures read at scrape time: the outbox backlog and failures, the delivery of the feed of
habilitation changes to the démarches' webhooks, the database's connections.

Read from the database by whichever process is scraped, so they hold for every process at once
(the workers that send email included).
"""

import logging
from collections.abc import Iterator

from django.db import connection
from django.db.models import Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from portail.habilitations.models import HabilitationChange, HabilitationFeed
from portail.notifications.models import OutboxEmail
from portail.oidc.models import WebhookSubscription

logger = logging.getLogger(__name__)


class DatabaseFiguresCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("portail_database_up", "1 when the database answered the scrape.")
        try:
            families = [*self._outbox(), *self._feed(), *self._connections()]
        except Exception:  # the scrape still reports the process's own series
            logger.exception("Metrics: the database did not answer")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _outbox(self) -> list[GaugeMetricFamily]:
        by_status = GaugeMetricFamily(
            "portail_outbox_emails",
            "Emails of the outbox not yet delivered, by status (pending, sending, failed).",
            labels=["status"],
        )
        for status in (
            OutboxEmail.Status.PENDING,
            OutboxEmail.Status.SENDING,
            OutboxEmail.Status.FAILED,
        ):
            by_status.add_metric([status.value], OutboxEmail.objects.filter(status=status).count())
        retrying = GaugeMetricFamily(
            "portail_outbox_retrying",
            "Pending emails whose delivery failed at least once (SMTP refused or unreachable).",
            value=OutboxEmail.objects.pending().filter(attempts__gt=0).count(),
        )
        oldest = OutboxEmail.objects.pending().aggregate(at=Min("created_at"))["at"]
        age = GaugeMetricFamily(
            "portail_outbox_oldest_pending_seconds",
            "Age of the oldest email waiting for delivery (0 when none waits).",
            value=(timezone.now() - oldest).total_seconds() if oldest else 0.0,
        )
        return [by_status, retrying, age]

    def _feed(self) -> list[GaugeMetricFamily]:
        backlog = GaugeMetricFamily(
            "portail_feed_backlog_events",
            "Events of a démarche's feed of habilitation changes not yet acknowledged by its "
            "webhook.",
            labels=["demarche"],
        )
        lag = GaugeMetricFamily(
            "portail_feed_delivery_lag_seconds",
            "Age of the oldest event a démarche's webhook has not acknowledged (0 when none).",
            labels=["demarche"],
        )
        last = dict(HabilitationFeed.objects.values_list("demarche_id", "last_sequence"))
        now = timezone.now()
        for subscription in WebhookSubscription.objects.select_related("demarche"):
            code = subscription.demarche.code
            waiting = max(
                0, last.get(subscription.demarche_id, 0) - subscription.delivered_sequence
            )
            backlog.add_metric([code], waiting)
            oldest = (
                HabilitationChange.objects.filter(
                    demarche_id=subscription.demarche_id,
                    sequence=subscription.delivered_sequence + 1,
                )
                .values_list("occurred_at", flat=True)
                .first()
                if waiting
                else None
            )
            lag.add_metric([code], (now - oldest).total_seconds() if oldest else 0.0)
        return [backlog, lag]

    def _connections(self) -> list[GaugeMetricFamily]:
        if connection.vendor != "postgresql":
            return []
        used = GaugeMetricFamily(
            "portail_db_connections",
            "Connections to the portal's database, by state (active, idle, idle in transaction…).",
            labels=["state"],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() GROUP BY 1 ORDER BY 1"
            )
            for state, count in cursor.fetchall():
                used.add_metric([state], count)
            cursor.execute("SHOW max_connections")
            row = cursor.fetchone()
        limit = GaugeMetricFamily(
            "portail_db_max_connections",
            "The server's max_connections: alert well before the connections reach it.",
            value=float(row[0]) if row else 0.0,
        )
        return [used, limit]
