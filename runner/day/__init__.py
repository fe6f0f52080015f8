"""Game days: several experiments in order, under a window and gates, with one stop.

By concept: ``model`` (the day as values), ``loader`` / ``entries`` / ``parse`` / ``merge``
(the file, validated like an experiment), ``calendar`` (the window), ``queue`` (order,
needs, the day's exit code), ``gates`` (error budget, worst-case spend, alerts, burn rate
as arithmetic), ``records`` (the day journal's events), ``conduct`` (the day, driving the
single-run engine through a launcher), ``resume`` (after a crash), ``report`` (the day's
reports, from ``runner.report``'s pieces) and ``manifests`` (a CronJob for the day, from
the Kubernetes manifest parts). Everything but ``report`` and ``manifests`` is pure (an
import-linter contract): I/O comes in through ports the CLI builds.
"""
