"""The Chaos Toolkit adapters: chaoslib at run time, behind gameday's ports.

``session`` resolves configuration and secrets and owns chaoslib's process-wide state
(the activity cache, controls) for one run; ``activities`` is the ``ports.StepRunner``
(activities, pauses, tolerances, controls); ``sentinel`` holds the hypothesis checks and
the safeguards as ``ports.Sentinel``; ``platform`` is the ``ports.Platform`` of a Chaos
Toolkit run. ``build`` (here) puts them together for the command line.
"""
