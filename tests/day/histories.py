"""Recorded histories for the gate tests: 29 days of a checkout service at 100 req/s,
generated and backfilled into a real Prometheus (``tests.fixtures.backfill``).

Every history runs one hour into the future too, so windows that end "now" (rate over a
minute, burn rates over 5 minutes) have samples however long the test session lasts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.fixtures import backfill

DAY = backfill.DAY
RATE = 100.0
#: The gate every history is read with (99.9 % over 28 days).
BAD = 'checkout_requests_total{code="500"}'
TOTAL = "checkout_requests_total"


def _service(error_ratio: Callable[[float], float]) -> list[backfill.Series]:
    now = time.time()
    span = {"start": now - 29 * DAY, "end": now + 3600, "step": 300.0, "recent": 3 * 3600,
            "recent_step": 15.0}
    return [
        backfill.counter(TOTAL, {"code": "200"}, rate=lambda t: RATE * (1 - error_ratio(t)),
                         **span),
        backfill.counter(TOTAL, {"code": "500"}, rate=lambda t: RATE * error_ratio(t), **span),
    ]


def healthy() -> list[backfill.Series]:
    """0.02 % errors: a fifth of a 99.9 % budget spent, 80 % remains."""
    return _service(lambda _t: 0.0002)


def spent() -> list[backfill.Series]:
    """0.12 % errors for 28 days: the budget is spent (remaining -20 %)."""
    return _service(lambda _t: 0.0012)


def burning() -> list[backfill.Series]:
    """Healthy, except 3 % errors from an hour ago on: a 30x burn in every short window."""
    now = time.time()
    return _service(lambda t: 0.03 if t > now - 3600 else 0.0001)


def alerting() -> list[backfill.Series]:
    """Healthy, with a critical alert firing now (and a warning that must not count)."""
    now = time.time()
    points = [(t, 1.0) for t in range(int(now - 3600), int(now + 3600), 15)]
    alerts = [backfill.Series("ALERTS", {"alertname": name, "severity": severity,
                                         "alertstate": state, "namespace": "shop"},
                              points, kind="gauge")
              for name, severity, state in (("CheckoutDown", "critical", "firing"),
                                            ("CheckoutSlow", "warning", "firing"),
                                            ("CartFlaky", "critical", "pending"))]
    return [*healthy(), *alerts]
