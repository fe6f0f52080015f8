"""Chaos Toolkit experiments, loaded into gameday's own model.

``load`` validates a Chaos Toolkit experiment (JSON or YAML, as ``chaos run`` reads it)
with gameday's rules (every problem at once, with path and line; nothing imported or
called) and maps it into the same ``model.Experiment`` the engine runs: the method's
actions become faults, the method itself a ``model.Method`` (pauses, background
activities, probes, the rollback group), and what only the Chaos Toolkit adapters need
(configuration, secrets, controls, the hypothesis) a ``spec.Spec``. There is no second
path past the model: ``runner.model.loader`` dispatches here.
"""
