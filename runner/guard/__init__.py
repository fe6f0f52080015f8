"""The dead man's switch: revert the faults of runs whose lease expired.

``policy`` decides (pure): which watched leases are due, what the journal says about a
takeover. ``watch`` is the bounded loop over a ``Store`` of leases (local run records,
Kubernetes Leases) that hands each due one to a ``Takeover`` (built by ``runner.cli.guard``
on the revert path of ``gameday revert``). Nothing here talks to a platform itself.
"""
