"""The crash-safe journal: an append-only JSON Lines event log that can be trusted.

``events`` names the event types and their persisted shapes (checked by ``schema``);
``writer`` appends one scrubbed event per line (``redact``) through ``disk`` (whole lines,
fsynced, a reserve for a full disk, one writer) on a ``chain`` (sha256, or HMAC with a
key from ``keys``) and seals it; ``tail`` is where a reopened journal left off;
``reader`` reads it back, ignoring only a torn last line and refusing odd input;
``integrity`` says whether it is what its writer wrote; ``recovery`` finds the fault
intents whose revert never completed, and ``provenance`` which of those reverts may run.
"""
