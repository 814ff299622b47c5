"""What the HTTP registry adapters share: one GET with short timeouts, one retry after a short 429.

Every failure of the service (unreachable, too slow, 5xx, 429 for long, unreadable JSON) becomes
`RegistryUnavailable`: the person signing up may then type the establishment by hand.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from django.core.cache import cache

from portail.companies import conf
from portail.companies.registry import RegistryUnavailable

logger = logging.getLogger("portail.companies.registry")

USER_AGENT = "portail-mes-demarches (registre des entreprises)"


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _count_this_second(source: str) -> int:
    key = f"registry-pace:{source}:{int(time.time())}"
    cache.add(key, 0, timeout=5)
    try:
        count: int = cache.incr(key)
        return count
    except ValueError:  # expired between add and incr
        return 1


def pace(source: str, per_second: int) -> None:
    """Keep under `per_second` requests per second to `source`, all processes together.

    A counter per wall-clock second in the shared cache; past the limit, wait for the next second
    (once: the registry's own 429 handles the rest). Approximate with the database cache (its
    increment is not atomic), exact with Redis.
    """
    if per_second <= 0:
        return
    try:
        if _count_this_second(source) > per_second:
            time.sleep(max(0.0, 1 - (time.time() % 1)))
            _count_this_second(source)
    except Exception:  # the cache's own errors (Redis down): unpaced, the registry's 429 remains
        logger.error("Registry pacing: the cache does not answer, request to %s not paced", source)


def get(
    url: str,
    *,
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    source: str,
    per_second: int = 0,
) -> requests.Response:
    """GET `url`; returns the response for 2xx/4xx (but 429), raises RegistryUnavailable otherwise."""
    all_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    timeout = conf.timeout()
    for attempt in (1, 2):
        pace(source, per_second)
        try:
            response = requests.get(
                url, params=params, headers=all_headers, timeout=(timeout, timeout)
            )
        except requests.Timeout as exc:
            raise RegistryUnavailable(detail=f"{source}: timeout") from exc
        except requests.RequestException as exc:
            raise RegistryUnavailable(detail=f"{source}: {type(exc).__name__}") from exc
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt == 1 and wait is not None and wait <= conf.max_retry_after():
                logger.info("Company registry %s: 429, retrying in %.1f s", source, wait)
                time.sleep(wait)
                continue
            raise RegistryUnavailable(detail=f"{source}: 429 (Retry-After {wait})")
        if response.status_code >= 500:
            raise RegistryUnavailable(detail=f"{source}: HTTP {response.status_code}")
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def json_body(response: requests.Response, *, source: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise RegistryUnavailable(detail=f"{source}: malformed JSON") from exc


def text(value: object) -> str:
    """A JSON field as clean text: None, numbers and '[ND]' (not diffusible) handled."""
    if value is None:
        return ""
    cleaned = str(value).strip()
    return "" if cleaned == "[ND]" else cleaned
