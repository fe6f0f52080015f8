"""The engine: the phases of a run, the tick loop, abort policy and the revert stack.

It sees the world only through ``runner.ports`` and writes only through the journal;
time and cancellation are injected, so tests drive it with a fake clock.
"""
