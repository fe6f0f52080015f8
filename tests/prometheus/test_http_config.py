"""The ``prometheus:`` block takes Prometheus' own http_config keys, checked as Prometheus does."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from runner import errors
from runner.model import experiment as model
from runner.model import loader

BASE = """
title: t
prometheus:
{prometheus}
steady_state:
  baseline: 60s
  probes:
    - name: r
      ratio: {{errors: 'e_total', total: 't_total'}}
      max: 1%
faults:
  - action: {{provider: {{type: python, module: os, func: getcwd}}}}
duration: 60s
"""


def load(tmp_path: Path, prometheus: str, env: dict[str, str] | None = None) -> model.Experiment:
    path = tmp_path / "exp.yaml"
    path.write_text(BASE.format(prometheus=prometheus))
    return loader.load(path, environ=env or {})


def problems(tmp_path: Path, prometheus: str) -> str:
    with pytest.raises(errors.InputError) as caught:
        load(tmp_path, prometheus)
    return str(caught.value)


def test_every_http_config_key_is_read_with_paths_relative_to_the_experiment(
    tmp_path: Path,
) -> None:
    exp = load(tmp_path, """
  url: https://prom.example:9090
  tick: 5s
  timeout: 2s
  retries: 4
  basic_auth: {username: gameday, password_file: secrets/pw}
  tls_config: {ca_file: ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem,
               server_name: prom.internal, insecure_skip_verify: false}
  proxy_url: http://proxy:3128
""")
    prom = exp.prometheus
    assert prom.retries == 4
    assert prom.basic_auth == model.BasicAuth("gameday", None, str(tmp_path / "secrets/pw"))
    assert prom.tls == model.TLSConfig(str(tmp_path / "ca.pem"), "/etc/c.pem", "/etc/k.pem",
                                       "prom.internal", False)
    assert prom.proxy_url == "http://proxy:3128"
    journaled = json.dumps(exp.document)
    assert "secrets/pw" not in journaled


def test_authorization_and_bearer_token_file_and_env_references(tmp_path: Path) -> None:
    exp = load(tmp_path, "  url: http://p:9090\n  authorization: {credentials: '${TOKEN}'}",
               {"TOKEN": "tok-123"})
    assert exp.prometheus.authorization == model.Authorization("Bearer", "tok-123", None)
    assert "tok-123" not in json.dumps(exp.document)
    file = load(tmp_path, "  url: http://p:9090\n  bearer_token_file: /run/token")
    assert file.prometheus.authorization == model.Authorization("Bearer", None, "/run/token")


@pytest.mark.parametrize(("block", "expected"), [
    ("basic_auth: {username: u, password: p}\n  authorization: {credentials: c}",
     "not both authorization and basic_auth"),
    ("authorization: {type: Basic, credentials: c}", "use basic_auth"),
    ("authorization: {credentials: c, credentials_file: f}",
     "credentials or credentials_file, not both"),
    ("authorization: {type: Bearer}", "give credentials"),
    ("basic_auth: {username: u, password: p, password_file: f}",
     "password or password_file, not both"),
    ("basic_auth: {password: p}", "username"),
    ("tls_config: {cert_file: c.pem}", "add key_file"),
    ("tls_config: {ca_file: ca.pem}", "https:// URL only"),
    ("tls_config: {min_version: TLS13}", "min_version"),
    ("proxy_url: socks5://p:1080", "proxy"),
    ("retries: -1", "retries"),
    ("headers: {Authorization: Bearer x}\n  bearer_token_file: /t", "headers already set"),
    ("authorization: {credentials: '${NOPE}'}", "NOPE is not set"),
])
def test_wrong_http_config_is_refused_with_its_path(
    tmp_path: Path, block: str, expected: str
) -> None:
    message = problems(tmp_path, f"  url: http://p:9090\n  {block}")
    assert expected in message
    assert "prometheus." in message


def test_secret_values_hold_every_secret_and_the_contents_of_secret_files(
    tmp_path: Path,
) -> None:
    (tmp_path / "pw").write_text("file-password\n")
    basic = load(tmp_path, "  url: https://u:url-pass@p:9090\n  basic_auth: "
                 "{username: gameday, password_file: pw}\n  headers: {X-Api-Key: 'Key k-1234', "
                 "X-Scope-OrgID: t1}")
    values = basic.prometheus.secret_values()
    encoded = base64.b64encode(b"gameday:file-password").decode()
    assert set(values) == {"file-password", encoded, "url-pass", "Key k-1234", "k-1234"}
    assert list(values) == sorted(values, key=lambda v: (-len(v), v))
    auth = load(tmp_path, "  url: http://p:9090\n  authorization: {credentials_file: gone}")
    assert auth.prometheus.secret_values() == ()  # unreadable: nothing to scrub, no crash
    assert auth.prometheus.secret_values(read=lambda path: "from-" + Path(path).name) == \
        ("from-gone",)
    assert "file-password" not in repr(basic.prometheus)
    assert "tok-1" not in repr(load(tmp_path, "  url: http://p:9090\n  headers: {A: tok-1}"))
