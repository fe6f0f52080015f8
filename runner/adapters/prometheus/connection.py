"""One HTTP connection to Prometheus: its http_config, its queries, its failures named.

Queries go through prometheus-api-client's ``PrometheusConnect.custom_query`` (mandated)
on a ``requests.Session`` built here from ``PrometheusConfig``. Decisions:

- The session is built for a lean tick: keep-alive with a pool as large as the reads in
  flight, ``Accept-Encoding: identity`` (Prometheus gzips answers to clients that accept
  it; per-tick answers are a few hundred bytes on a fast link, so gzip costs both sides
  CPU and saves nothing), and ``trust_env = False``: no ``.netrc`` lookup and proxy
  environment parsing per request (0.7 ms each), and the environment's proxies and
  ``REQUESTS_CA_BUNDLE`` are not used, as Prometheus itself does not use them.
- http_config: ``authorization`` becomes the ``Authorization`` header (a
  ``credentials_file`` is read once, here); ``basic_auth`` the session's auth;
  ``tls_config`` its ``verify``/``cert`` and, for ``server_name``, an adapter that sets
  SNI and the name checked in the certificate; ``proxy_url`` its proxies. A file that
  cannot be read is not an exception at build time: every query then fails with that
  sentence, so preflight reports it like any other connection problem.
- Failures are classified at this boundary and chained with ``from``: a certificate the
  CA does not vouch for, a certificate for another name, TLS spoken to a plain-HTTP
  server (or the reverse), a client certificate demanded, credentials refused (401/403),
  a proxy that fails, a refused connection, a timeout, a rejected query. Only the
  transient ones (connection, timeout, 5xx, 429, 408) are retried, ``retries`` times,
  all within ``timeout``.
"""

from __future__ import annotations

import ast
import datetime
import json
import re
import ssl
import urllib.parse
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import requests
import requests.adapters
import tenacity
import urllib3
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from runner import errors
from runner.model import experiment as model

_TRANSIENT_STATUS = re.compile(r"HTTP Status Code (5\d\d|429|408)")
_DENIED_STATUS = re.compile(r"HTTP Status Code (401|403)")
_BODY = re.compile(r"HTTP Status Code (\d+) \((b(['\"]).*\3)\)$", re.DOTALL)
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")
_TLS_TO_PLAIN = "Client sent an HTTP request to an HTTPS server"


class QueryFailed(errors.PlatformError):
    """Prometheus answered, but refused the query (bad PromQL, bad request)."""


class Transient(Exception):
    """A failure worth retrying (connection, timeout, 5xx)."""


def safe_url(url: str) -> str:
    """``url`` without user:password, for messages and logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class _NamedTLSAdapter(requests.adapters.HTTPAdapter):
    """An adapter that sends ``server_name`` as SNI and checks the certificate against it."""

    def __init__(self, server_name: str | None, pool_size: int) -> None:
        self.server_name = server_name
        super().__init__(pool_connections=1, pool_maxsize=pool_size,
                         max_retries=Retry(total=0, raise_on_status=False))

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        extra: dict[str, Any] = dict(pool)
        if self.server_name and host.get("scheme") == "https":
            extra["server_hostname"] = self.server_name  # SNI
            extra["assert_hostname"] = self.server_name  # the name the certificate must hold
        return dict(host), extra


def _read(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.PlatformError(
            f"The {what} {path} cannot be read ({exc.__class__.__name__}: "
            f"{getattr(exc, 'strerror', None) or exc}). Check the path and its permissions."
        ) from None


def _session(config: model.PrometheusConfig, pool_size: int) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.headers["Accept-Encoding"] = "identity"
    session.headers.update(config.headers)
    auth = config.authorization
    if auth is not None:
        secret = auth.credentials or ""
        if auth.credentials_file:
            secret = _read(auth.credentials_file, "prometheus authorization credentials_file")
        session.headers["Authorization"] = f"{auth.type} {secret}"
    basic = config.basic_auth
    if basic is not None:
        password = basic.password or ""
        if basic.password_file:
            password = _read(basic.password_file, "prometheus basic_auth password_file")
        session.auth = (basic.username, password)
    tls = config.tls
    for path, what in ((tls.ca_file, "ca_file"), (tls.cert_file, "cert_file"),
                       (tls.key_file, "key_file")):
        if path:
            _read(path, f"prometheus tls_config {what}")
    session.verify = False if tls.insecure_skip_verify else (tls.ca_file or True)
    if tls.insecure_skip_verify:
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    if tls.cert_file and tls.key_file:
        session.cert = (tls.cert_file, tls.key_file)
    if config.proxy_url:
        session.proxies = {"http": config.proxy_url, "https": config.proxy_url}
    return session


class Connection:
    """Instant queries against one Prometheus, safe to call from several threads."""

    def __init__(self, config: model.PrometheusConfig, *, pool_size: int = 8,
                 sleep: Callable[[float], None]) -> None:
        self.url = config.url
        self.where = safe_url(config.url)
        self.timeout = config.timeout
        self.retries = config.retries
        self._config = config
        self._sleep = sleep
        self.setup_error: errors.PlatformError | None = None
        try:
            session = _session(config, pool_size)
        except errors.PlatformError as exc:
            self.setup_error = exc
            session = requests.Session()
        self._client = PrometheusConnect(url=config.url, session=session, disable_ssl=False,
                                         retry=Retry(total=0, raise_on_status=False),
                                         timeout=config.timeout)
        # PrometheusConnect mounts its own adapter on the URL; ours replaces it.
        session.mount(config.url, _NamedTLSAdapter(config.tls.server_name, pool_size))

    def close(self) -> None:
        self._client.close()

    def query(self, promql: str, *, at: float | None = None,
              span: tuple[float, float, float] | None = None) -> Any:
        """One instant query (evaluated at Unix time ``at``, or now); ``data.result``.

        ``span`` = (start, end, step) makes it a range query (``/api/v1/query_range``,
        a matrix), with the same retries and the same failures named (replay's history).

        Raises ``QueryFailed`` (Prometheus refused it, with its own error text) or
        ``errors.PlatformError`` (unreachable, timing out, failing, certificate, auth).
        """
        if self.setup_error is not None:
            raise self.setup_error
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            stop=tenacity.stop_after_attempt(self.retries + 1)
            | tenacity.stop_after_delay(self.timeout),
            wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._once, promql, at, span)
        except Transient as exc:
            raise errors.PlatformError(
                f"Prometheus at {self.where} did not answer the query `{promql}` "
                f"(tried {self.retries + 1} time(s) within {self.timeout:g} s): {exc}. "
                "Check that Prometheus runs and that prometheus.url points at it; raise "
                "prometheus.timeout if it is just slow."
            ) from exc

    def _once(self, promql: str, at: float | None,
              span: tuple[float, float, float] | None = None) -> Any:
        params = {"timeout": f"{self.timeout:g}"}  # seconds; "0.5s" would be rejected
        if at is not None:
            params["time"] = f"{at:.3f}"
        try:
            if span is not None:  # exact start/end: the client would round them to seconds
                start, end = (datetime.datetime.fromtimestamp(x, datetime.UTC)
                              for x in span[:2])
                return self._client.custom_query_range(
                    promql, start_time=start, end_time=end, step=f"{span[2]:g}",
                    params={**params, "start": f"{span[0]:.3f}", "end": f"{span[1]:.3f}"},
                    timeout=self.timeout)
            return self._client.custom_query(promql, params=params, timeout=self.timeout)
        except requests.exceptions.SSLError as exc:
            raise errors.PlatformError(self._tls_problem(exc)) from exc
        except requests.exceptions.ProxyError as exc:
            raise errors.PlatformError(
                f"The proxy {safe_url(self._config.proxy_url or '')} did not pass the query "
                f"to Prometheus at {self.where} ({_reason(exc)}). Check prometheus.proxy_url."
            ) from exc
        except requests.Timeout as exc:
            raise Transient(f"no answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            errno = _ERRNO.search(str(exc))
            raise Transient(errno.group(1).lower() if errno else _reason(exc)) from exc
        except PrometheusApiClientException as exc:
            raise self._http_problem(promql, str(exc)) from exc
        except OSError as exc:  # requests: a TLS file that vanished since the build
            raise errors.PlatformError(
                f"Prometheus at {self.where} cannot be reached: {exc}. Check tls_config."
            ) from exc
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            raise errors.PlatformError(
                f"Prometheus at {self.where} gave an unusable answer to `{promql}`: "
                f"{exc}. Check that prometheus.url points at a Prometheus server."
            ) from exc

    def _http_problem(self, promql: str, text: str) -> Exception:
        detail = _error_text(text)
        if _TRANSIENT_STATUS.search(text):
            return Transient(detail)
        if _DENIED_STATUS.search(text):
            return errors.PlatformError(
                f"Prometheus at {self.where} refused the credentials ({detail}); "
                f"gameday sent {self._credentials()}. Check them (and that the file they "
                "come from holds the current secret)."
            )
        if _TLS_TO_PLAIN in text:
            return errors.PlatformError(
                f"Prometheus at {self.where} speaks HTTPS, but prometheus.url says http://. "
                "Write https:// (and tls_config.ca_file if its CA is private)."
            )
        return QueryFailed(
            f"Prometheus at {self.where} rejected the query `{promql}`: {detail}. "
            "Fix the query in the experiment file."
        )

    def _credentials(self) -> str:
        config = self._config
        if config.basic_auth is not None:
            source = "password_file" if config.basic_auth.password_file else "password"
            return f"basic_auth for user {config.basic_auth.username!r} (its {source})"
        if config.authorization is not None:
            source = "credentials_file" if config.authorization.credentials_file \
                else "credentials"
            return f"an Authorization {config.authorization.type} header (its {source})"
        if any(name.lower() == "authorization" for name in config.headers):
            return "the Authorization header from prometheus.headers"
        return "no credentials: add basic_auth or authorization to prometheus"

    def _tls_problem(self, exc: Exception) -> str:
        text = str(exc)
        lowered = text.lower()
        tls = self._config.tls
        name = tls.server_name or urllib.parse.urlsplit(self.url).hostname
        if "hostname mismatch" in lowered or "doesn't match" in lowered \
                or "not valid for" in lowered:
            return (f"The TLS certificate of Prometheus at {self.where} is not valid for the "
                    f"name {name!r}. Connect by a name the certificate lists, or set "
                    "prometheus.tls_config.server_name to one of them.")
        if "expired" in lowered:
            return (f"The TLS certificate of Prometheus at {self.where} has expired "
                    f"({_reason(exc)}). Renew it on the server.")
        if "certificate verify failed" in lowered:
            trust = f"the CA in {tls.ca_file}" if tls.ca_file else "the system's CAs"
            return (f"The TLS certificate of Prometheus at {self.where} is not trusted by "
                    f"{trust} ({_reason(exc)}). Point prometheus.tls_config.ca_file at the "
                    "CA that signed it.")
        if "certificate required" in lowered or "bad certificate" in lowered \
                or "unknown ca" in lowered:
            return (f"Prometheus at {self.where} refused gameday's client certificate "
                    f"({_reason(exc)}). Set prometheus.tls_config.cert_file and key_file to "
                    "a certificate its client CA signed.")
        if "wrong version number" in lowered or "record layer" in lowered \
                or "packet length" in lowered:
            return (f"Prometheus at {self.where} does not speak TLS ({_reason(exc)}); "
                    "write http:// in prometheus.url.")
        return f"The TLS handshake with Prometheus at {self.where} failed: {_reason(exc)}."


def _reason(exc: BaseException) -> str:
    """The innermost useful words of a requests/urllib3 error, without reprs."""
    inner: BaseException | None = exc
    while inner is not None:
        if isinstance(inner, ssl.SSLError | ssl.CertificateError):
            return str(getattr(inner, "verify_message", None) or inner.reason or inner) \
                if isinstance(inner, ssl.SSLError) else str(inner)
        reason = getattr(inner, "reason", None)
        nested = reason if isinstance(reason, BaseException) else None
        nested = nested or inner.__cause__ or inner.__context__ or \
            next((a for a in getattr(inner, "args", ()) if isinstance(a, BaseException)), None)
        if nested is None:
            break
        inner = nested
    return str(inner or exc)[:300]


def _error_text(text: str) -> str:
    """Prometheus's own error message out of the client's "HTTP Status Code N (b'...')"."""
    found = _BODY.search(text)
    if found is None:
        return text[:300]
    try:
        raw = ast.literal_eval(found.group(2))
        body: Mapping[str, Any] = json.loads(raw)
        return f"{body['error']} (HTTP {found.group(1)})"
    except (ValueError, SyntaxError, TypeError, KeyError):
        try:
            plain = ast.literal_eval(found.group(2)).decode("utf-8", "replace").strip()
        except (ValueError, SyntaxError, AttributeError):
            return text[:300]
        return f"{plain[:200]} (HTTP {found.group(1)})" if plain else f"HTTP {found.group(1)}"
