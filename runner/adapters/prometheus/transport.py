"""The HTTP transport under prometheus-api-client: a urllib3 pool built from http_config.

Why not the ``requests.Session`` that ``PrometheusConnect`` makes by default: on a
per-tick read the session's own bookkeeping (merging settings, preparing the request,
runtime Protocol checks, cookies) costs about 0.45 ms of CPU per query here, a third of
the whole per-probe budget of issue 8 (1.5 ms), while urllib3 (the library requests
itself sends with) does the same request, keep-alive, TLS and proxying for the rest.
``PrometheusConnect`` takes any ``session`` that answers ``request(...)`` with an object
having ``status_code``, ``content`` and ``json()``; ``Session`` below is exactly that,
so query building, the API's error answers and the result parsing stay
prometheus-api-client's.

Decisions:
- ``Accept-Encoding: identity``: per-tick answers are a few hundred bytes; gzip would
  cost Prometheus and us CPU and save nothing on a fast link.
- No environment: ``HTTP_PROXY``/``REQUESTS_CA_BUNDLE``/``.netrc`` are not read (neither
  does Prometheus); ``proxy_url`` and ``tls_config`` say it. The system CAs are trusted
  unless ``tls_config.ca_file`` names the CA.
- No retries and no redirects inside urllib3: ``connection.Connection`` retries
  transient failures itself (bounded by the experiment's ``timeout`` and ``retries``).
- A credentials or password file is read once, when the transport is built.
"""

from __future__ import annotations

import json
import urllib.parse
import warnings
from collections.abc import Mapping
from typing import Any

import urllib3

from runner import errors
from runner.model import experiment as model


def read_secret(path: str, what: str) -> str:
    """A credential file's content, stripped as Prometheus strips it; a clear error if not."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise errors.PlatformError(
            f"The {what} {path} cannot be read ({reason}). Check the path and its "
            "permissions (a mounted Secret must be mounted where the experiment says)."
        ) from None


def headers(config: model.PrometheusConfig) -> dict[str, str]:
    """Every header a query carries: identity encoding, auth, then the user's own."""
    out = {"Accept-Encoding": "identity", "User-Agent": "gameday"}
    auth = config.authorization
    if auth is not None:
        secret = auth.credentials or ""
        if auth.credentials_file:
            secret = read_secret(auth.credentials_file, "prometheus authorization "
                                 "credentials_file")
        out["Authorization"] = f"{auth.type} {secret}"
    basic = config.basic_auth
    if basic is not None:
        password = basic.password or ""
        if basic.password_file:
            password = read_secret(basic.password_file, "prometheus basic_auth password_file")
        out.update(urllib3.util.make_headers(basic_auth=f"{basic.username}:{password}"))
    out.update(config.headers)
    return out


def pool(config: model.PrometheusConfig, size: int) -> urllib3.PoolManager:
    """The keep-alive pool (a ``ProxyManager`` behind ``proxy_url``) for ``config``."""
    kw: dict[str, Any] = {"num_pools": 2, "maxsize": size, "block": False, "retries": False,
                          "timeout": urllib3.Timeout(total=config.timeout)}
    tls = config.tls
    for path, what in ((tls.ca_file, "ca_file"), (tls.cert_file, "cert_file"),
                       (tls.key_file, "key_file")):
        if path:
            read_secret(path, f"prometheus tls_config {what}")
    if config.url.startswith("https://"):
        if tls.insecure_skip_verify:
            kw.update(cert_reqs="CERT_NONE", assert_hostname=False)
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        else:
            kw["cert_reqs"] = "CERT_REQUIRED"
            if tls.ca_file:
                kw["ca_certs"] = tls.ca_file
        if tls.cert_file and tls.key_file:
            kw.update(cert_file=tls.cert_file, key_file=tls.key_file)
        if tls.server_name:
            kw.update(server_hostname=tls.server_name)
            if not tls.insecure_skip_verify:
                kw.update(assert_hostname=tls.server_name)
    if config.proxy_url:
        parts = urllib.parse.urlsplit(config.proxy_url)
        proxy_headers = None
        if parts.username is not None:
            userinfo = urllib.parse.unquote(f"{parts.username}:{parts.password or ''}")
            proxy_headers = urllib3.util.make_headers(proxy_basic_auth=userinfo)
        return urllib3.ProxyManager(config.proxy_url, proxy_headers=proxy_headers, **kw)
    return urllib3.PoolManager(**kw)


class Response:
    """What ``PrometheusConnect`` reads of an answer."""

    __slots__ = ("content", "status_code")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


class Session:
    """The ``session`` handed to ``PrometheusConnect``: its calls, sent with urllib3."""

    verify = True  # read (and handed back) by PrometheusConnect; TLS is the pool's
    cert = None
    proxies: Mapping[str, str] = {}

    def __init__(self, pool_: urllib3.PoolManager, headers_: Mapping[str, str]) -> None:
        self._pool = pool_
        self._headers = dict(headers_)

    def mount(self, prefix: str, adapter: object) -> None:
        """PrometheusConnect mounts a requests adapter; this transport has none."""

    def close(self) -> None:
        self._pool.clear()

    def request(self, method: str, url: str, *, params: Mapping[str, str] | None = None,
                timeout: float | None = None, **_ignored: object) -> Response:
        query = urllib.parse.urlencode(params or {})
        full = f"{url}?{query}" if query else url
        extra: dict[str, Any] = {}
        if timeout is not None:  # else the pool's own (the experiment's timeout)
            extra["timeout"] = urllib3.Timeout(total=timeout)
        answer = self._pool.request(method, full, headers=self._headers, redirect=False,
                                    **extra)
        return Response(answer.status, answer.data)
