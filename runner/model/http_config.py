"""The connection keys of ``prometheus:``, spelled as Prometheus' own ``http_config``.

An SRE copies ``authorization``, ``basic_auth``, ``bearer_token_file``, ``tls_config``
and ``proxy_url`` from a Prometheus or Grafana data source config and they mean the
same here. Decisions, each Prometheus' own rule unless said otherwise:

- At most one of ``authorization``, ``basic_auth`` and ``bearer_token_file``, and none
  of them beside an ``Authorization`` header (gameday's rule: two would fight).
- ``authorization.type`` defaults to ``Bearer``; ``Basic`` is refused (use
  ``basic_auth``). ``credentials`` and ``credentials_file`` exclude each other, as do
  ``password`` and ``password_file``. ``bearer_token_file`` is read as an
  ``authorization`` of type Bearer with that ``credentials_file``.
- ``cert_file`` and ``key_file`` come together.
- Relative file paths are relative to the experiment file's directory. Files are not
  read while validating (a mounted Secret may exist only where the run happens); the
  connection reads them and says which one it could not read.
- Inline secrets may be ``${ENV_VAR}`` references, like header values.
- ``proxy_url`` is an http(s) URL; the environment's ``HTTP_PROXY`` is not used
  (Prometheus' default too).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from runner.model import activities, document, fields
from runner.model import experiment as model
from runner.model.yamlsafe import Node


class Connection:
    """Readers of the connection keys, bound to one file's problems, env and directory."""

    def __init__(self, read: fields.Reader, environ: Mapping[str, str],
                 base: Path | None) -> None:
        self.read = read
        self.environ = environ
        self.base = base

    def _path(self, node: Node, path: str) -> str | None:
        text = self.read.string(node, path, what="a file path")
        if text is None:
            return None
        if not text.strip():
            self.read.fail(node, path, "the file path is empty")
            return None
        given = Path(text)
        return str(given if given.is_absolute() or self.base is None else self.base / given)

    def _secret(self, node: Node, path: str) -> str | None:
        text = self.read.string(node, path, what="text")
        if text is None:
            return None
        value, missing = document.expand(text, self.environ)
        for variable in missing:
            self.read.fail(node, path, f"environment variable {variable} is not set; export "
                           "it before running, or read the value from a file instead", "env")
        return value

    def auth(
        self, values: Mapping[str, Node], headers: Mapping[str, str]
    ) -> tuple[model.Authorization | None, model.BasicAuth | None]:
        given = [key for key in ("authorization", "basic_auth", "bearer_token_file")
                 if key in values]
        if len(given) > 1:
            self.read.fail(values[given[1]], f"prometheus.{given[1]}", f"give one way to "
                           f"authenticate, not both {given[0]} and {given[1]}", "conflict")
        if given and any(name.lower() == "authorization" for name in headers):
            self.read.fail(values[given[0]], f"prometheus.{given[0]}", f"headers already set "
                           f"Authorization; remove that header or {given[0]}", "conflict")
        auth = basic = None
        if "authorization" in values:
            auth = self._authorization(values["authorization"])
        if "basic_auth" in values:
            basic = self._basic(values["basic_auth"])
        if "bearer_token_file" in values:
            token = self._path(values["bearer_token_file"], "prometheus.bearer_token_file")
            auth = model.Authorization(credentials_file=token) if token else None
        return auth, basic

    def _authorization(self, node: Node) -> model.Authorization | None:
        where = "prometheus.authorization"
        values = self.read.mapping(node, where, allowed=("type", "credentials",
                                                         "credentials_file"))
        if values is None:
            return None
        kind = "Bearer"
        if "type" in values:
            kind = (self.read.string(values["type"], f"{where}.type", what="a scheme such "
                                     "as Bearer") or kind).strip()
            if kind.lower() == "basic":
                self.read.fail(values["type"], f"{where}.type", "type Basic is not allowed "
                               "here; use basic_auth: {username: ..., password_file: ...}")
            elif not kind or " " in kind:
                self.read.fail(values["type"], f"{where}.type", "the type is one word, "
                               "such as Bearer")
        secret = file = None
        if "credentials" in values:
            secret = self._secret(values["credentials"], f"{where}.credentials")
        if "credentials_file" in values:
            file = self._path(values["credentials_file"], f"{where}.credentials_file")
        if "credentials" in values and "credentials_file" in values:
            self.read.fail(values["credentials_file"], f"{where}.credentials_file", "give "
                           "credentials or credentials_file, not both", "conflict")
        elif "credentials" not in values and "credentials_file" not in values:
            self.read.fail(node, where, "give credentials (e.g. ${PROM_TOKEN}) or "
                           "credentials_file (e.g. a mounted Secret)", "missing")
        return model.Authorization(type=kind, credentials=secret, credentials_file=file)

    def _basic(self, node: Node) -> model.BasicAuth | None:
        where = "prometheus.basic_auth"
        values = self.read.mapping(node, where, allowed=("username", "password",
                                                         "password_file"),
                                   required=("username",))
        if values is None or "username" not in values:
            return None
        user = self._secret(values["username"], f"{where}.username")
        password = file = None
        if "password" in values:
            password = self._secret(values["password"], f"{where}.password")
        if "password_file" in values:
            file = self._path(values["password_file"], f"{where}.password_file")
        if "password" in values and "password_file" in values:
            self.read.fail(values["password_file"], f"{where}.password_file", "give "
                           "password or password_file, not both", "conflict")
        if user is not None and ":" in user:
            self.read.fail(values["username"], f"{where}.username", "a basic-auth user name "
                           "cannot contain ':'")
        return model.BasicAuth(username=user or "", password=password, password_file=file)

    def tls(self, node: Node) -> model.TLSConfig:
        where = "prometheus.tls_config"
        values = self.read.mapping(node, where, allowed=(
            "ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify"))
        if values is None:
            return model.TLSConfig()
        files = {key: self._path(values[key], f"{where}.{key}") if key in values else None
                 for key in ("ca_file", "cert_file", "key_file")}
        for have, lacks in (("cert_file", "key_file"), ("key_file", "cert_file")):
            if have in values and lacks not in values:
                self.read.fail(values[have], f"{where}.{have}", f"a client certificate needs "
                               f"both cert_file and key_file; add {lacks}", "missing")
        name = None
        if "server_name" in values:
            name = self.read.string(values["server_name"], f"{where}.server_name",
                                    what="a host name")
        skip = False
        if "insecure_skip_verify" in values:
            skip = bool(self.read.boolean(values["insecure_skip_verify"],
                                          f"{where}.insecure_skip_verify"))
        return model.TLSConfig(ca_file=files["ca_file"], cert_file=files["cert_file"],
                               key_file=files["key_file"], server_name=name,
                               insecure_skip_verify=skip)

    def proxy(self, node: Node) -> str | None:
        url = self._secret(node, "prometheus.proxy_url")
        if url is None:
            return None
        if (bad := activities.url_problem(url)) is not None:
            self.read.fail(node, "prometheus.proxy_url", f"{bad} (an http:// or https:// "
                           "proxy)")
            return None
        return url
