"""Defaults under, overrides over: an experiment's YAML tree as the day runs it.

A game day gives every experiment its defaults (``defaults.prometheus``, ``target``,
``blast_radius``, ``steady_state.alpha``...) and each entry may override keys. Both are
applied to the *node tree* before the experiment is validated, so the experiment
loader sees one ordinary document and checks it like any file (same rules, same
messages). Decisions:

- Precedence: day defaults < the experiment's own keys < the entry's overrides.
  Mappings merge key by key, recursively; anything else (a list, a scalar) is replaced.
- ``steady_state`` takes only ``alpha``, ``baseline`` and ``min_effect`` from defaults and
  overrides: the probes are the experiment's hypothesis, not the day's.
- Nodes copied from the day file into an experiment that lives in another file carry
  their line *negated* (``graft(..., foreign=True)``), so a problem found in them can
  be reported at its line in the day file, not at a meaningless line of the experiment
  file. ``is_day_line`` tells them apart.
"""

from __future__ import annotations

from runner.model.yamlsafe import Map, Node, Scalar, Seq

MERGED = ("prometheus", "target", "blast_radius")
STEADY_KEYS = ("alpha", "baseline", "min_effect")


def _line(line: int, foreign: bool) -> int:
    return -abs(line) if foreign else line


def graft(node: Node, *, foreign: bool) -> Node:
    """A deep copy of ``node``; ``foreign`` marks its lines as the day file's."""
    if isinstance(node, Scalar):
        return Scalar(node.value, node.text, _line(node.line, foreign))
    if isinstance(node, Seq):
        return Seq([graft(item, foreign=foreign) for item in node.items],
                   _line(node.line, foreign))
    return Map({key: (_line(line, foreign), graft(value, foreign=foreign))
                for key, (line, value) in node.entries.items()}, _line(node.line, foreign))


def is_day_line(line: int | None) -> bool:
    return line is not None and line < 0


def _over(base: Node, top: Node) -> Node:
    """``top`` over ``base``: mappings merge recursively, anything else is replaced."""
    if not (isinstance(base, Map) and isinstance(top, Map)):
        return top
    entries = dict(base.entries)
    for key, (line, value) in top.entries.items():
        entries[key] = (line, _over(entries[key][1], value) if key in entries else value)
    return Map(entries, base.line)


def apply(root: Node, defaults: Map | None, overrides: Map | None, *, foreign: bool) -> Node:
    """The experiment tree with the day's defaults and the entry's overrides applied."""
    if not isinstance(root, Map):
        return root  # the experiment loader reports the wrong shape
    tree = graft(root, foreign=False)
    assert isinstance(tree, Map)
    entries = dict(tree.entries)
    for key, (line, value) in (defaults.entries.items() if defaults else ()):
        mine = graft(value, foreign=foreign)
        if key == "steady_state":
            steady = entries.get(key)
            if steady is not None and isinstance(steady[1], Map) and isinstance(mine, Map):
                picked = Map({k: v for k, v in mine.entries.items() if k in STEADY_KEYS},
                             mine.line)
                entries[key] = (steady[0], _over(picked, steady[1]))
            continue
        if key in entries:
            entries[key] = (entries[key][0], _over(mine, entries[key][1]))
        else:
            entries[key] = (_line(line, foreign), mine)
    for key, (line, value) in (overrides.entries.items() if overrides else ()):
        mine = graft(value, foreign=foreign)
        if key in entries and (key in MERGED or key == "steady_state"):
            entries[key] = (entries[key][0], _over(entries[key][1], mine))
        else:
            entries[key] = (_line(line, foreign), mine)
    return Map(entries, tree.line)
