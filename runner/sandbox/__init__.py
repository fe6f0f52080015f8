"""The local sandbox: the embedded default platform, real processes on loopback.

A demo HTTP service runs as N replicas under a supervisor that restarts killed ones
(``supervisor``, ``service``); a load-balancing proxy in front of them adds latency with
a TTL and exports the client-side view (``proxy``, ``latency``); a traffic generator
keeps requests flowing (``traffic``); a real Prometheus scrapes it all (``prometheus``).
``manager`` starts and stops the whole set and records it in a state file (``state``);
``client`` talks to the control APIs. Faults reach it through the ``gameday_local``
Chaos Toolkit extension, like any other platform.
"""
