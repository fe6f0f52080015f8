"""gameday: a chaos and game-day experiment runner.

The package is laid out as a pure core (``model``, ``stats``, ``engine``, ``journal``,
``ports``, ``errors``) and adapters at the edge (``adapters``, ``sandbox``, ``report``),
with ``cli`` as the one composition root. import-linter enforces the direction.
"""

__version__ = "0.1.0"
