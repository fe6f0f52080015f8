"""One connection to Prometheus: its queries, retried when worth it, its failures named.

Queries go through prometheus-api-client's ``PrometheusConnect.custom_query`` (mandated)
over the urllib3 transport of ``transport`` (why not requests: see there). Failures are
classified at this boundary and chained with ``from``: a certificate the CA does not
vouch for, a certificate for another name, TLS spoken to a plain-HTTP server (or the
reverse), a client certificate demanded, credentials refused (401/403), a proxy that
fails, a refused connection, a timeout, a rejected query. Only the transient ones
(connection, timeout, 5xx, 429, 408) are retried, ``retries`` times, all within
``timeout``; the first attempt runs without the retry machinery (tenacity is
imported on the first failure only: the per-tick path and start-up do not pay for it).
A credentials file that cannot be read does not fail construction: every query then
fails with that sentence, so preflight reports it like any other connection problem.
"""

from __future__ import annotations

import ast
import datetime
import json
import re
import ssl
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import urllib3
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException

from runner import errors
from runner.adapters.prometheus import transport
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
            session = transport.Session(transport.pool(config, pool_size),
                                        transport.headers(config))
        except errors.PlatformError as exc:
            self.setup_error = exc
            session = transport.Session(urllib3.PoolManager(retries=False), {})
        self._client = PrometheusConnect(url=config.url, session=session,
                                         timeout=config.timeout)

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
        try:
            return self._once(promql, at, span)
        except Transient as exc:
            if self.retries == 0:
                raise self._gave_up(promql, exc) from exc
        import tenacity  # only on a failure: plan and run start-up do not pay for it

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            stop=tenacity.stop_after_attempt(self.retries)
            | tenacity.stop_after_delay(self.timeout),
            wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
            sleep=self._sleep,
            reraise=True,
        )
        self._sleep(0.1)  # the first retry waits as tenacity's schedule would
        try:
            return retrying(self._once, promql, at, span)
        except Transient as exc:
            raise self._gave_up(promql, exc) from exc

    def _gave_up(self, promql: str, exc: Transient) -> errors.PlatformError:
        return errors.PlatformError(
            f"Prometheus at {self.where} did not answer the query `{promql}` "
            f"(tried {self.retries + 1} time(s) within {self.timeout:g} s): {exc}. "
            "Check that Prometheus runs and that prometheus.url points at it; raise "
            "prometheus.timeout if it is just slow."
        )

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
        except urllib3.exceptions.SSLError as exc:
            raise errors.PlatformError(self._tls_problem(exc)) from exc
        except urllib3.exceptions.ProxyError as exc:
            raise errors.PlatformError(
                f"The proxy {safe_url(self._config.proxy_url or '')} did not pass the query "
                f"to Prometheus at {self.where} ({_reason(exc)}). Check prometheus.proxy_url."
            ) from exc
        except urllib3.exceptions.NameResolutionError as exc:
            raise Transient(f"the host name does not resolve ({_reason(exc)})") from exc
        except urllib3.exceptions.NewConnectionError as exc:
            errno = _ERRNO.search(str(exc))
            raise Transient(errno.group(1).lower() if errno else _reason(exc)) from exc
        except urllib3.exceptions.TimeoutError as exc:
            raise Transient(f"no answer within {self.timeout:g} s") from exc
        except (urllib3.exceptions.ProtocolError, ConnectionError) as exc:
            raise Transient(f"the connection broke ({_reason(exc)})") from exc
        except PrometheusApiClientException as exc:
            raise self._http_problem(promql, str(exc)) from exc
        except (urllib3.exceptions.HTTPError, OSError, ValueError, KeyError,
                TypeError) as exc:
            raise errors.PlatformError(
                f"Prometheus at {self.where} gave an unusable answer to `{promql}`: "
                f"{_reason(exc)}. Check that prometheus.url points at a Prometheus server."
            ) from exc

    def _http_problem(self, promql: str, text: str) -> Exception:
        detail = _error_text(text)
        if _TRANSIENT_STATUS.search(text):
            return Transient(detail)
        if _DENIED_STATUS.search(text):
            sent, from_file = self._credentials()
            check = ("Check them, and that the file holds the current secret." if from_file
                     else "Check them.")
            return errors.PlatformError(
                f"Prometheus at {self.where} refused the credentials ({detail}); "
                f"gameday sent {sent}. {check}"
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

    def _credentials(self) -> tuple[str, bool]:
        """What gameday authenticated with (never the secret), and whether from a file."""
        config = self._config
        if config.basic_auth is not None:
            from_file = bool(config.basic_auth.password_file)
            source = "password_file" if from_file else "password"
            return f"basic_auth for user {config.basic_auth.username!r} (its {source})", \
                from_file
        if config.authorization is not None:
            from_file = bool(config.authorization.credentials_file)
            source = "credentials_file" if from_file else "credentials"
            return f"an Authorization {config.authorization.type} header (its {source})", \
                from_file
        if any(name.lower() == "authorization" for name in config.headers):
            return "the Authorization header from prometheus.headers", False
        return "no credentials: add basic_auth or authorization to prometheus", False

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
    """The innermost useful words of a urllib3/ssl error chain, without reprs (bounded)."""
    inner: BaseException = exc
    for _ in range(8):
        if isinstance(inner, ssl.SSLCertVerificationError):
            return str(inner.verify_message or inner.reason or inner)
        if isinstance(inner, ssl.SSLError):
            return str(inner.reason or inner)
        if isinstance(inner, ssl.CertificateError):
            return str(inner)
        reason = getattr(inner, "reason", None)
        nested = reason if isinstance(reason, BaseException) else (
            inner.__cause__ or inner.__context__
            or next((a for a in inner.args if isinstance(a, BaseException)), None))
        if nested is None:
            break
        inner = nested
    return str(inner)[:300]


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
