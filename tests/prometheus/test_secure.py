"""A real Prometheus behind TLS and basic auth (``--web.config.file``): connect, or say why not.

The server's certificate is for ``localhost`` and ``127.0.0.1``, signed by a CA made for
the session; basic auth wants user ``gameday``. Each failure must be named for what it
is (certificate not trusted, certificate for another name, credentials refused, HTTPS
spoken to as HTTP) and never be "connection failed, check that Prometheus runs".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from runner import ports
from runner.adapters import prometheus as adapter
from runner.model import experiment as model
from tests.fixtures.prometheus import PrometheusHandle, SecureHandle

pytestmark = pytest.mark.prometheus

ANSWER = model.GaugeProbe(name="answer", query="vector(42)")


def config(secure: SecureHandle, **changes: object) -> model.PrometheusConfig:
    good = model.PrometheusConfig(
        url=secure.url, timeout=2.0, retries=0,
        basic_auth=model.BasicAuth(secure.username, password_file=str(secure.password_file)),
        tls=model.TLSConfig(ca_file=str(secure.ca_file)),
    )
    return dataclasses.replace(good, **changes)  # type: ignore[arg-type]


@pytest.fixture
def connect() -> Iterator[list[adapter.PrometheusSource]]:
    made: list[adapter.PrometheusSource] = []
    yield made
    for source in made:
        source.close()


def problems(made: list[adapter.PrometheusSource], cfg: model.PrometheusConfig) -> list[str]:
    source = adapter.PrometheusSource(cfg, 1.0, sleep=lambda _: None)
    made.append(source)
    return source.preflight([ANSWER])


def test_tls_and_basic_auth_from_a_password_file_read_and_query(
    secure_prometheus: SecureHandle, connect: list[adapter.PrometheusSource]
) -> None:
    assert problems(connect, config(secure_prometheus)) == []
    assert connect[0].sample([ANSWER]) == {"answer": ports.Value(42.0)}


def test_server_name_is_sent_and_checked_instead_of_the_url_host(
    secure_prometheus: SecureHandle, connect: list[adapter.PrometheusSource]
) -> None:
    named = model.TLSConfig(ca_file=str(secure_prometheus.ca_file), server_name="localhost")
    assert problems(connect, config(secure_prometheus, tls=named)) == []
    wrong = dataclasses.replace(named, server_name="prometheus.other.example")
    (problem,) = problems(connect, config(secure_prometheus, tls=wrong))
    assert "not valid for the name 'prometheus.other.example'" in problem
    assert "server_name" in problem


def test_a_certificate_the_ca_does_not_vouch_for_is_named(
    secure_prometheus: SecureHandle, connect: list[adapter.PrometheusSource]
) -> None:
    other = model.TLSConfig(ca_file=str(secure_prometheus.other_ca_file))
    (problem,) = problems(connect, config(secure_prometheus, tls=other))
    assert "is not trusted by the CA in" in problem
    assert str(secure_prometheus.other_ca_file) in problem
    (system,) = problems(connect, config(secure_prometheus, tls=model.TLSConfig()))
    assert "not trusted by the system's CAs" in system
    assert "ca_file" in system
    assert "check that Prometheus runs" not in problem + system


def test_insecure_skip_verify_connects_without_the_ca(
    secure_prometheus: SecureHandle, connect: list[adapter.PrometheusSource]
) -> None:
    skip = model.TLSConfig(insecure_skip_verify=True)
    assert problems(connect, config(secure_prometheus, tls=skip)) == []


def test_refused_credentials_say_which_were_sent(
    secure_prometheus: SecureHandle, connect: list[adapter.PrometheusSource]
) -> None:
    wrong = model.BasicAuth(secure_prometheus.username, password="not the password")
    (problem,) = problems(connect, config(secure_prometheus, basic_auth=wrong))
    assert "refused the credentials" in problem
    assert "HTTP 401" in problem
    assert "basic_auth for user 'gameday' (its password)" in problem
    assert "not the password" not in problem
    (none,) = problems(connect, config(secure_prometheus, basic_auth=None))
    assert "no credentials" in none


def test_http_spoken_to_an_https_server_is_named(
    secure_prometheus: SecureHandle, connect: list[adapter.PrometheusSource]
) -> None:
    plain = secure_prometheus.url.replace("https://", "http://")
    (problem,) = problems(connect, config(secure_prometheus, url=plain, tls=model.TLSConfig()))
    assert "speaks HTTPS" in problem and "https://" in problem


def test_https_spoken_to_a_plain_server_and_an_unreadable_file_are_named(
    prometheus: PrometheusHandle, secure_prometheus: SecureHandle,
    connect: list[adapter.PrometheusSource],
) -> None:
    plain_url = prometheus.url  # the session's plain-HTTP Prometheus
    tls = model.TLSConfig(ca_file=str(secure_prometheus.ca_file))
    (problem,) = problems(connect, config(secure_prometheus, url=plain_url.replace(
        "http://", "https://"), tls=tls, basic_auth=None))
    assert "does not speak TLS" in problem
    gone = model.BasicAuth("gameday", password_file="/nonexistent/password")
    (missing,) = problems(connect, config(secure_prometheus, basic_auth=gone))
    assert "/nonexistent/password cannot be read" in missing
