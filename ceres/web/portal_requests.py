"""CERES' requests to the portal at each sign-in (the code exchange, userinfo), sent by urllib3.

requests prepared every request anew — its hooks, cookie jars, the environment's settings, the
adapter's lookup of a pool, the response's wrapping: a quarter of the sign-in's callback for a
POST of five fields. Here one urllib3 pool manager per process sends them, with what requests took
from the environment for the portal's address read once per address, through requests' own
reading (`environment_of`): the CA bundle (`REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`, else
certifi's; requests reads no `SSL_CERT_FILE`, nor does this) and a proxy (`HTTPS_PROXY`,
`NO_PROXY`, …, its credentials from its URL). The failures are requests' exceptions, as requests
raises them (`ConnectionError`, `ConnectTimeout`, `ReadTimeout`, `SSLError`, `ProxyError`,
`HTTPError`, `JSONDecodeError`): the callback's "Connexion impossible" and its log line are
unchanged. Neither request follows a redirect (requests followed them; the portal's endpoints
answer, they never redirect, and a credential sent on to another address is one too many).
"""

import base64
import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import requests
import urllib3
from requests import exceptions as failures
from requests.utils import DEFAULT_CA_BUNDLE_PATH, select_proxy
from urllib3 import exceptions as low

Claims = dict[str, Any]
# requests' adapter: no retry of a connection, a read error raised as it is.
_RETRIES = urllib3.Retry(0, read=False)


class Answer:
    """The status, headers and body of one answer of the portal."""

    def __init__(self, url: str, response: urllib3.BaseHTTPResponse) -> None:
        self.url = url
        self.status_code = response.status
        self.headers = response.headers
        self.content = response.data

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError as exc:  # as requests' Response.json()
            message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            raise failures.JSONDecodeError(message, self.text, getattr(exc, "pos", 0)) from exc


def basic_authorization(user: str, password: str) -> str:
    """requests' HTTPBasicAuth header (its latin-1 encoding of both strings)."""
    pair = f"{user}:{password}".encode("latin1")
    return f"Basic {base64.b64encode(pair).decode('ascii')}"


def _pool_for(url: str, verify: bool | str) -> urllib3.PoolManager:
    """A pool manager for `url` with what requests would take from the environment for it."""
    environment = requests.Session().merge_environment_settings(url, {}, None, verify, None)
    checked = environment["verify"]
    tls: dict[str, Any] = {"cert_reqs": "CERT_NONE"}
    if urlsplit(url).scheme == "https" and checked:
        # requests' cert_verify: the bundle named, else certifi's; a folder of certificates too.
        bundle = DEFAULT_CA_BUNDLE_PATH if checked is True else str(checked)
        if not Path(bundle).exists():
            raise OSError(f"Could not find a suitable TLS CA certificate bundle: {bundle}")
        where = "ca_cert_dir" if Path(bundle).is_dir() else "ca_certs"
        tls = {"cert_reqs": "CERT_REQUIRED", where: bundle}
    proxy = select_proxy(url, environment["proxies"])
    if not proxy:
        return urllib3.PoolManager(retries=_RETRIES, **tls)
    parts = urlsplit(proxy)
    headers = {}
    if parts.username is not None:  # requests' proxy_headers
        login = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        headers = urllib3.make_headers(proxy_basic_auth=login)
    return urllib3.ProxyManager(proxy, proxy_headers=headers, retries=_RETRIES, **tls)


class PortalRequests:
    """One pool manager per address and TLS setting, made at the first request: kept by the
    process, as the portal's address and the environment do not change."""

    def __init__(self) -> None:
        self._pools: dict[tuple[str, str, bool | str], urllib3.PoolManager] = {}
        self._lock = threading.Lock()

    def _pool(self, url: str, verify: bool | str) -> urllib3.PoolManager:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, verify)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key) or self._pools.setdefault(key, _pool_for(url, verify))
        return pool

    def close(self) -> None:
        """Close the kept connections (a test's live server waits on them)."""
        with self._lock:
            for pool in self._pools.values():
                pool.clear()
            self._pools.clear()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: str | None = None,
        verify: bool | str = True,
        timeout: float | None = None,
    ) -> Answer:
        pool = self._pool(url, verify)
        try:
            response = pool.request(
                method,
                url,
                body=body,
                headers=dict(headers),
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                redirect=False,
            )
        except (low.HTTPError, OSError) as exc:
            raise requests_error(exc) from exc
        return Answer(url, response)

    def post_form(
        self, url: str, fields: Mapping[str, str], authorization: str | None, **options: Any
    ) -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "*/*"}
        if authorization:
            headers["Authorization"] = authorization
        return self.send("POST", url, headers=headers, body=urlencode(fields), **options)


portal_requests = PortalRequests()


def requests_error(exc: BaseException) -> failures.RequestException:
    """The exception requests' adapter raises for urllib3's `exc` (its `send`)."""
    if isinstance(exc, low.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, low.ConnectTimeoutError) and not isinstance(
            reason, low.NewConnectionError
        ):
            return failures.ConnectTimeout(exc)
        if isinstance(reason, low.ProxyError):
            return failures.ProxyError(exc)
        if isinstance(reason, low.SSLError):
            return failures.SSLError(exc)
        return failures.ConnectionError(exc)
    kinds: list[tuple[type[BaseException], Callable[..., failures.RequestException]]] = [
        (low.ProxyError, failures.ProxyError),
        (low.SSLError, failures.SSLError),
        (low.ReadTimeoutError, failures.ReadTimeout),
        (low.InvalidHeader, failures.InvalidHeader),
    ]
    for kind, raised in kinds:
        if isinstance(exc, kind):
            return raised(exc)
    return failures.ConnectionError(exc)
