"""gameday's ``coordination.k8s.io/v1`` Leases on the wire: names, bodies, reads, CAS writes.

Two kinds, told apart by the label ``gameday.io/lease``:
- a **run** Lease (``gameday-run-<run id>``) per live run, in its target namespace: the
  holder, the lease (``renewTime`` + ``leaseDurationSeconds``), and in annotations what a
  guard needs: state, phase, journal head, the journal's place, the resolved keys, and
  the pending reverts as Chaos Toolkit activities (mirrored before each fault acts);
- a **lock** Lease (``gameday-lock-<digest of the key>``) per resolved target, naming the
  run Lease that holds it; it lives as long as that run Lease does (no renewals of its own).

Decisions:
- Writes that decide something (taking over a lock, a guard taking over a run) are
  compare-and-swap: a merge patch carrying ``metadata.resourceVersion``, which the API
  server refuses with 409 when someone wrote in between. ``Conflict`` is raised for it;
  callers re-read and decide again (bounded).
- Every call has the client's timeout (``gameday_k8s.client.TIMEOUT``); failures are
  ``errors.PlatformError`` naming the Lease, except 404 (None) and 409 (``Conflict``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from gameday_k8s import chaosmesh
from gameday_k8s import client as kclient
from runner import errors

KIND_LABEL = "gameday.io/lease"
RUN_ID = chaosmesh.RUN_ID_LABEL
PREFIX = "gameday.io/"
MERGE = "application/merge-patch+json"
_NS = re.compile(r"/ns/([^/]+)(?:/|$)")

Lease = dict[str, Any]


class Conflict(Exception):
    """409: the Lease exists already (create) or changed since it was read (CAS patch)."""


def micro_time(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, tz=datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: object) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.timestamp()


def _dns(prefix: str, text: str) -> str:
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", text.lower())).strip("-")
    name = f"{prefix}-{cleaned}"
    if len(name) > 63:
        name = name[:54].rstrip("-") + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return name


def run_lease_name(run_id: str) -> str:
    return _dns("gameday-run", run_id)


def lock_lease_name(key: str) -> str:
    return "gameday-lock-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def namespace_of(key: str) -> str:
    """``k8s:https://api/ns/shop/pod/web-1`` -> ``shop``."""
    found = _NS.search(key)
    if found is None:
        raise errors.PlatformError(f"lock key {key!r} names no namespace (/ns/<name>/)")
    return found.group(1)


def notes_of(lease: Mapping[str, Any]) -> dict[str, str]:
    meta = lease.get("metadata") or {}
    return {k[len(PREFIX):]: str(v) for k, v in (meta.get("annotations") or {}).items()
            if k.startswith(PREFIX)}


def json_note(lease: Mapping[str, Any], name: str, default: Any) -> Any:
    raw = notes_of(lease).get(name)
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError:
        return default


def expires_at(lease: Mapping[str, Any]) -> float:
    """When the Lease runs out: ``renewTime`` (else ``acquireTime``) + its duration."""
    spec = lease.get("spec") or {}
    renewed = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime")) or 0.0
    return renewed + float(spec.get("leaseDurationSeconds") or 0)


def body(name: str, namespace: str, *, kind: str, run_id: str, holder: str, seconds: float,
         now: float, notes: Mapping[str, object]) -> Lease:
    return {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {KIND_LABEL: kind, RUN_ID: chaosmesh.label_value(run_id),
                                **chaosmesh.MANAGED_BY},
                     "annotations": encode(notes)},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": max(1, round(seconds)),
                 "acquireTime": micro_time(now), "renewTime": micro_time(now),
                 "leaseTransitions": 0},
    }


def encode(notes: Mapping[str, object]) -> dict[str, str]:
    return {PREFIX + k: v if isinstance(v, str) else json.dumps(v, sort_keys=True)
            for k, v in notes.items()}


class LeaseApi:
    """CRUD on Leases (and the journal ConfigMaps) through one ``ApiClient``."""

    def __init__(self, api: Any, where: str) -> None:
        from kubernetes import client

        self.api = api
        self.where = where
        # built once: a keepalive thread must not wait on an import lock another thread
        # holds (a first chaoslib import in the fault window)
        self._coordination = client.CoordinationV1Api(api)

    def _coord(self) -> Any:
        return self._coordination

    def _fail(self, what: str, exc: kclient.ClientError) -> errors.PlatformError:
        return errors.PlatformError(f"Kubernetes, {self.where}: {exc}")

    def create(self, lease: Lease) -> Lease:
        meta = lease["metadata"]
        what = f"creating Lease {meta['namespace']}/{meta['name']}"
        try:
            created: Lease = kclient.call(what, self._coord().create_namespaced_lease,
                                          meta["namespace"], lease)
        except kclient.ClientError as exc:
            if exc.status == 409:
                raise Conflict(what) from exc
            raise self._fail(what, exc) from exc
        return created

    def read(self, namespace: str, name: str) -> Lease | None:
        what = f"reading Lease {namespace}/{name}"
        try:
            found: Lease = kclient.call(what, self._coord().read_namespaced_lease, name,
                                        namespace)
        except kclient.ClientError as exc:
            if exc.status == 404:
                return None
            raise self._fail(what, exc) from exc
        return found

    def patch(self, namespace: str, name: str, patch: Mapping[str, Any], *,
              version: str | None = None) -> Lease | None:
        """Merge-patch; with ``version`` only if unchanged since (else ``Conflict``)."""
        what = f"updating Lease {namespace}/{name}"
        body_: dict[str, Any] = dict(patch)
        if version is not None:
            body_["metadata"] = {**dict(body_.get("metadata") or {}),
                                 "resourceVersion": version}
        try:
            patched: Lease = kclient.call(what, self._coord().patch_namespaced_lease, name,
                                          namespace, body_, _content_type=MERGE)
        except kclient.ClientError as exc:
            if exc.status == 404:
                return None
            if exc.status == 409:
                raise Conflict(what) from exc
            raise self._fail(what, exc) from exc
        return patched

    def delete(self, namespace: str, name: str) -> None:
        what = f"deleting Lease {namespace}/{name}"
        try:
            kclient.call(what, self._coord().delete_namespaced_lease, name, namespace)
        except kclient.ClientError as exc:
            if exc.status != 404:
                raise self._fail(what, exc) from exc

    def list(self, namespace: str, kind: str) -> list[Lease]:
        what = f"listing gameday Leases in {namespace}"
        try:
            found = kclient.call(what, self._coord().list_namespaced_lease, namespace,
                                 label_selector=f"{KIND_LABEL}={kind}")
        except kclient.ClientError as exc:
            raise self._fail(what, exc) from exc
        return [item for item in found.get("items") or []  # a server may ignore selectors
                if ((item.get("metadata") or {}).get("labels") or {}).get(KIND_LABEL) == kind]

    def keep_journal(self, namespace: str, name: str, run_id: str,
                     data: Mapping[str, str]) -> None:
        """Create (or replace the data of) a ConfigMap holding a journal, base64 in binaryData."""
        from kubernetes import client

        core = client.CoreV1Api(self.api)
        config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": name, "namespace": namespace,
                                   "labels": {RUN_ID: chaosmesh.label_value(run_id),
                                              KIND_LABEL: "journal", **chaosmesh.MANAGED_BY},
                                   "annotations": {RUN_ID: run_id}},
                      "binaryData": dict(data)}
        what = f"writing ConfigMap {namespace}/{name}"
        try:
            kclient.call(what, core.create_namespaced_config_map, namespace, config_map)
        except kclient.ClientError as exc:
            if exc.status != 409:
                raise self._fail(what, exc) from exc
            try:
                kclient.call(what, core.patch_namespaced_config_map, name, namespace,
                             {"binaryData": dict(data)}, _content_type=MERGE)
            except kclient.ClientError as again:
                raise self._fail(what, again) from again
