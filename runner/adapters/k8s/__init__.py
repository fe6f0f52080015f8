"""The Kubernetes platform: preflight, blast radius, seeded planning, guardrail reads.

- ``platform``: ``KubernetesPlatform`` (``runner.ports.Platform``) and ``build_platform``;
- ``safety``: namespace allow-list, production detection, blast radius, permissions;
- ``selection``: which pods match, which may be killed, the seeded draw;
- ``cluster``: the few API calls preflight and plan make, errors as ``PlatformError``;
- ``manifests``: ServiceAccount, Role, ConfigMap and Job/CronJob to run in the cluster.

The faults themselves are Chaos Toolkit activities of the ``gameday_k8s`` extension.
Nothing here imports the kubernetes client at import time: validating an experiment
never pays for it.
"""
