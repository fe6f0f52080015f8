"""Secrets never reach the disk: by key, by configured value, and URL userinfo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner import errors
from runner.journal import redact, writer


def _write(path: Path, scrub: list[str], **payload: object) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    with writer.JournalWriter(path, now=lambda: 1.0, scrub=scrub,
                              listeners=[seen.append]) as jw:
        jw.append("run-started", run_id="r", **payload)
    return seen


def test_configured_secret_values_are_scrubbed_from_every_string_and_key(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    secret = "s3cr3t-Value"
    seen = _write(path, [secret, "other-one"], experiment={
        "faults": [{"action": {"provider": {"arguments": {
            "cmd": f"curl -H 'X: {secret}' http://svc", f"key-{secret}": 1,
            "list": ["a", f"x{secret}y"]}}}}]},
        note=("tuple", f"{secret}!"))
    raw = path.read_text()
    assert secret not in raw and "other-one" not in raw
    args = json.loads(raw.splitlines()[0])["experiment"]["faults"][0]["action"]["provider"][
        "arguments"]
    assert args["cmd"] == "curl -H 'X: <redacted>' http://svc"
    assert args["key-<redacted>"] == 1 and args["list"] == ["a", "x<redacted>y"]
    assert secret not in json.dumps(seen)  # listeners get the scrubbed event


@pytest.mark.parametrize(("url", "expected"), [
    ("http://user:pass@host:9090/api", "http://<redacted>@host:9090/api"),
    ("see https://tok@example.com and ftp://a:b@c/d", "see https://<redacted>@example.com and "
     "ftp://<redacted>@c/d"),
    ("postgres://u:p@ss@db/x", "postgres://<redacted>@db/x"),
    ("http://host/path?email=a@b.c", "http://host/path?email=a@b.c"),
    ("mail me at a@b.c", "mail me at a@b.c"),
])
def test_url_userinfo_is_scrubbed_anywhere_in_any_string(url: str, expected: str) -> None:
    assert redact.strip_userinfo(url) == expected


def test_url_passwords_never_reach_the_journal_even_without_configured_secrets(
        tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write(path, [], experiment={"prometheus": {"url": "http://admin:hunter2@prom:9090"}},
           error="GET http://admin:hunter2@prom:9090/api/v1/query failed")
    raw = path.read_text()
    assert "hunter2" not in raw and "admin" not in raw and "@prom:9090" in raw


def test_secret_keys_and_headers_are_redacted_whatever_their_value(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write(path, [], experiment={"prometheus": {"headers": {"X-Scope": "tenant-1"}},
                                 "args": {"private_key": "-----BEGIN", "api_token": "abc"}})
    raw = path.read_text()
    assert "tenant-1" not in raw and "BEGIN" not in raw and "abc" not in raw


def test_objects_are_made_plain_before_scrubbing(tmp_path: Path) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "Opaque(password=very-secret)"

    path = tmp_path / "j.jsonl"
    _write(path, ["very-secret"], thing=Opaque(), where=Path("/x/very-secret"))
    raw = path.read_text()
    assert "very-secret" not in raw and "Opaque(password=<redacted>)" in raw


def test_a_secret_too_short_to_scrub_is_refused_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(errors.InputError, match="shorter than 4"):
        writer.JournalWriter(tmp_path / "j.jsonl", now=lambda: 1.0, scrub=["abc"])
    assert not (tmp_path / "j.jsonl").exists()
