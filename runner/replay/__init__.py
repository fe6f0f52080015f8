"""Replay: an experiment's own decision path over Prometheus history (``gameday replay``).

``windows`` (ranges, incidents, the window grid), ``driver`` (one window: the engine's
dry run on a fake clock over a history source), ``memory`` (a window's journal, kept in
memory until it is worth writing), ``session`` (passes and totals), ``replaying`` (the
whole replay and its journal), ``output`` (JSON and Markdown), ``plot`` (the HTML page).
"""
