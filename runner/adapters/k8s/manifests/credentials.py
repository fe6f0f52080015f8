"""Prometheus credentials for an in-cluster run: from a Secret, never in a ConfigMap.

An experiment names its Prometheus credentials two ways: ``${ENV_VAR}`` references
(header values, ``authorization.credentials``, ``basic_auth.password``) and files
(``authorization.credentials_file``, ``basic_auth.password_file``, ``bearer_token_file``,
``tls_config.ca_file/cert_file/key_file``). The ConfigMap holds the experiment file as
written, references and paths only. This module says what the Job needs to resolve them:
each variable becomes an ``env`` entry with ``secretKeyRef`` into one Secret, and each
file a key of that Secret mounted read-only where the experiment expects the file
(relative paths are relative to the experiment file, as the loader reads them).

Decisions: one Secret per experiment (``<name>-prometheus`` unless given), created by the
user (``kubectl create secret generic ...``, printed as a hint): gameday never prints a
secret value, not even a template to fill in. The key of a file is its base name.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from runner.model import document

FILE_KEYS = (("authorization", "credentials_file"), ("basic_auth", "password_file"),
             ("", "bearer_token_file"), ("tls_config", "ca_file"),
             ("tls_config", "cert_file"), ("tls_config", "key_file"))


@dataclasses.dataclass(frozen=True)
class Credentials:
    """What the experiment's ``prometheus:`` block needs from the Secret."""

    variables: tuple[str, ...]  # ${NAME} references, in order of appearance
    files: tuple[str, ...]  # absolute paths inside the container

    @property
    def keys(self) -> tuple[str, ...]:
        return self.variables + tuple(posixpath.basename(f) for f in self.files)

    def __bool__(self) -> bool:
        return bool(self.variables or self.files)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def find(text: str, experiment_dir: str) -> Credentials:
    """The variables and files the ``prometheus:`` block of ``text`` refers to.

    ``text`` has been validated by the loader already (so plain ``yaml.safe_load`` is
    safe here); ``experiment_dir`` is where the file sits inside the container."""
    raw = yaml.safe_load(text)
    block = raw.get("prometheus") if isinstance(raw, Mapping) else None
    if not isinstance(block, Mapping):
        return Credentials((), ())
    names: list[str] = []
    for string in _strings(block):
        for name in document.expand(string, {})[1]:
            if name not in names:
                names.append(name)
    files: list[str] = []
    for section, key in FILE_KEYS:
        holder = block.get(section) if section else block
        path = holder.get(key) if isinstance(holder, Mapping) else None
        if isinstance(path, str) and path.strip():
            full = posixpath.normpath(posixpath.join(experiment_dir, path.strip()))
            if full not in files:
                files.append(full)
    return Credentials(tuple(names), tuple(files))


def env(creds: Credentials, secret: str) -> list[dict[str, Any]]:
    return [{"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": name}}}
            for name in creds.variables]


def volumes(creds: Credentials, secret: str, experiment_dir: str) -> tuple[
        list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(items beside the experiment file, other volumes, their volumeMounts).

    Files under ``experiment_dir`` join the experiment's own (projected) volume, since a
    second volume cannot be mounted on the same directory; files elsewhere get one
    read-only Secret volume per directory."""
    inside: list[dict[str, Any]] = []
    by_dir: dict[str, list[str]] = {}
    for path in creds.files:
        relative = posixpath.relpath(path, experiment_dir)
        if not relative.startswith(".."):
            inside.append({"key": posixpath.basename(path), "path": relative})
        else:
            by_dir.setdefault(posixpath.dirname(path), []).append(posixpath.basename(path))
    vols: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for i, (directory, names) in enumerate(sorted(by_dir.items())):
        name = f"prometheus-credentials-{i}"
        vols.append({"name": name, "secret": {
            "secretName": secret, "defaultMode": 0o440,
            "items": [{"key": n, "path": n} for n in names]}})
        mounts.append({"name": name, "mountPath": directory, "readOnly": True})
    return inside, vols, mounts


def hint(creds: Credentials, secret: str, namespace: str) -> str:
    """The command that creates the Secret (values left for the user to give)."""
    parts = [f"kubectl -n {namespace} create secret generic {secret}"]
    parts += [f"--from-literal={name}=..." for name in creds.variables]
    parts += [f"--from-file={posixpath.basename(f)}=<local copy of {f}>" for f in creds.files]
    return " ".join(parts)
