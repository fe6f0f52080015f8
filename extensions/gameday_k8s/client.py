"""One Kubernetes API client per cluster and process, built like kubectl builds its own.

Decisions:
- The cluster is named by ``(kubeconfig, context)``, both plain strings that gameday
  puts into every activity's arguments. ``gameday revert JOURNAL`` after a crash, or a
  plain ``chaos run``, therefore talks to the very cluster the fault was injected into,
  even if the user's current context changed since. ``None`` for both means: the default
  kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``) if there is one, else the pod's
  service account (in-cluster).
- A fresh ``Configuration`` per cluster, never the library's global default (chaosk8s
  mutates ``client.Configuration`` class attributes; we do not want to depend on that).
- TLS verification stays on: a kubeconfig that sets ``insecure-skip-tls-verify`` is
  refused, and so is plain http except on loopback (test emulators), because a chaos
  tool must know which cluster it is breaking.
- Every call passes ``TIMEOUT`` as ``_request_timeout``; nothing waits forever.
- The kubernetes package is imported inside functions only, so importing this module
  (e.g. while validating an experiment) costs nothing.
"""



from __future__ import annotations

import dataclasses
import json
import os
import threading
import urllib.parse
from pathlib import Path
from typing import Any

#: (connect, read) seconds for every API call.
TIMEOUT: tuple[float, float] = (5.0, 30.0)

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_lock = threading.Lock()
_clients: dict[tuple[str | None, str | None], Any] = {}


class ClientError(Exception):
    """The cluster could not be reached or configured; ``str()`` is one paragraph."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class ClusterInfo:
    """Which cluster a client talks to, for the journal and the production check."""

    kubeconfig: str | None  # None: in-cluster
    context: str | None  # the context actually used (resolved from current-context)
    cluster: str | None  # the kubeconfig cluster name of that context
    server: str
    namespace: str | None  # the context's default namespace


def default_kubeconfig() -> str | None:
    """``$KUBECONFIG`` (may list several files) or ``~/.kube/config`` if it exists."""
    env = os.environ.get("KUBECONFIG")
    if env:
        return env
    home = Path("~/.kube/config").expanduser()
    return str(home) if home.exists() else None


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def resolve(kubeconfig: str | None, context: str | None) -> ClusterInfo:
    """Find the cluster named by ``(kubeconfig, context)`` without calling it."""
    kconfig = _config_module()
    path = kubeconfig or default_kubeconfig()
    if path is None:
        if context is not None:
            raise ClientError(
                f"Kube context {context!r} was asked for, but there is no kubeconfig "
                "($KUBECONFIG is unset and ~/.kube/config does not exist). Point --kubeconfig "
                "or KUBECONFIG at the file that defines it."
            )
        if not in_cluster():
            raise ClientError(
                "No Kubernetes configuration found: $KUBECONFIG is unset, ~/.kube/config does "
                "not exist and this is not a pod (KUBERNETES_SERVICE_HOST is unset). Set "
                "KUBECONFIG or pass --kubeconfig."
            )
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        return ClusterInfo(None, None, None, f"https://{host}:{port}", _pod_namespace())
    try:
        contexts, current = kconfig.list_kube_config_contexts(config_file=path)
    except Exception as exc:  # ConfigException, OSError, yaml errors
        raise ClientError(f"Cannot read kubeconfig {path}: {exc}") from exc
    name = context or (current or {}).get("name")
    chosen = next((c for c in contexts or [] if c.get("name") == name), None)
    if chosen is None:
        known = ", ".join(sorted(str(c.get("name")) for c in contexts or [])) or "none"
        raise ClientError(f"Kube context {name!r} is not in {path} (known contexts: {known}).")
    ctx = chosen.get("context") or {}
    cluster = ctx.get("cluster")
    server = _server_of(path, cluster)
    return ClusterInfo(path, str(name), cluster, server, ctx.get("namespace"))


def _server_of(path: str, cluster: str | None) -> str:
    """The server URL of ``cluster``; with several files the first definition wins."""
    import yaml

    for part in path.split(os.pathsep):
        try:
            document = yaml.safe_load(Path(part).expanduser().read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        for item in document.get("clusters") or []:
            if isinstance(item, dict) and item.get("name") == cluster:
                return str((item.get("cluster") or {}).get("server") or "")
    return ""


def _config_module() -> Any:
    """``kubernetes.config`` (its functions are untyped: treat it as ``Any``)."""
    from kubernetes import config

    return config


def _pod_namespace() -> str | None:
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def api_client(kubeconfig: str | None = None, context: str | None = None) -> Any:
    """The process's ``kubernetes.client.ApiClient`` for that cluster (built once)."""
    key = (kubeconfig, context)
    with _lock:
        cached = _clients.get(key)
        if cached is not None:
            return cached
        client = _build(kubeconfig, context)
        _clients[key] = client
        return client


def _build(kubeconfig: str | None, context: str | None) -> Any:
    from kubernetes import client as kclient

    kconfig = _config_module()
    info = resolve(kubeconfig, context)
    configuration = kclient.Configuration()
    try:
        if info.kubeconfig is None:
            kconfig.load_incluster_config(client_configuration=configuration)
        else:
            kconfig.load_kube_config(
                config_file=info.kubeconfig,
                context=info.context,
                client_configuration=configuration,
                persist_config=False,
            )
    except Exception as exc:  # ConfigException and friends
        raise ClientError(f"Cannot configure the Kubernetes client: {exc}") from exc
    if not configuration.verify_ssl:
        raise ClientError(
            f"Kube context {info.context!r} disables TLS verification "
            "(insecure-skip-tls-verify). gameday only talks to clusters it can "
            "authenticate: put the cluster's CA into the kubeconfig "
            "(certificate-authority-data) instead."
        )
    url = urllib.parse.urlsplit(str(configuration.host))
    if url.scheme != "https" and url.hostname not in _LOOPBACK:
        raise ClientError(
            f"Kube context {info.context!r} talks to {configuration.host} without TLS. "
            "gameday only talks to API servers over https (plain http is accepted on "
            "loopback only, for local emulators)."
        )
    return kclient.ApiClient(configuration)


def forget() -> None:
    """Drop cached clients (tests switch kubeconfigs)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def body_of(response: Any) -> Any:
    """The JSON body of a ``_preload_content=False`` response."""
    return json.loads(response.data or b"null")


def describe(exc: BaseException) -> tuple[str, int | None]:
    """One short sentence and the HTTP status (if any) for a client-library error."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status:
        reason = getattr(exc, "reason", "") or ""
        message = ""
        try:
            payload = json.loads(getattr(exc, "body", None) or "{}")
            message = str(payload.get("message") or "")
        except (ValueError, AttributeError):
            message = ""
        text = f"HTTP {status} {reason}".strip()
        return (f"{text}: {message}" if message else text), status
    return f"{type(exc).__name__}: {exc}", None


def call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a client method with the timeout and raw JSON; errors become ``ClientError``."""
    kwargs.setdefault("_request_timeout", TIMEOUT)
    kwargs.setdefault("_preload_content", False)
    try:
        return body_of(fn(*args, **kwargs))
    except ClientError:
        raise
    except Exception as exc:  # ApiException, urllib3 errors, timeouts, bad JSON
        sentence, status = describe(exc)
        raise ClientError(f"{what} failed: {sentence}", status) from exc
