"""The crash-safe journal: an append-only JSON Lines event log, its reader and recovery.

``events`` names the event types and their persisted shapes; ``writer`` appends and
fsyncs one event per line with a sequence number and the hash of the previous line;
``reader`` reads it back, ignoring only a torn last line; ``recovery`` finds the fault
intents whose revert never completed.
"""
