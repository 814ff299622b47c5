"""Who may read the metrics: a scraper showing METRICS_TOKEN, or one on an internal address.

An internal address counts only for a request that came straight to the process (no
X-Forwarded-For): through the reverse proxy, REMOTE_ADDR is the proxy's own, internal address.
"""

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _token_shown(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _, shown = str(request.headers.get("Authorization", "")).partition(" ")
    return (
        bool(expected)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(shown.strip().encode(), expected.encode())
    )


def _internal_peer(request: HttpRequest) -> bool:
    networks = settings.METRICS_ALLOWED_NETWORKS
    if not networks or "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        peer = ipaddress.ip_address(str(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return False
    return any(peer in ipaddress.ip_network(network, strict=False) for network in networks)


def may_read_metrics(request: HttpRequest) -> bool:
    return _token_shown(request) or _internal_peer(request)
