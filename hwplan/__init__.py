"""hwplan: a capacity planner for AI hardware.

One import package, one layer per subpackage (import-linter checks the arrows, see pyproject.toml):
`hwplan.core` (the Measurement contract, catalog, store) at the bottom; `hwplan.profiler` and
`hwplan.costmodel` above it and independent of each other; `hwplan.app.reports` above the cost
model; `hwplan.app.cli` and `hwplan.app.dashboard` on top. Shipped tables live in `hwplan.data`.
In the repository these are the top-level folders `profiler/`, `costmodel/`, `app/` and `data/`;
`hwplan/` holds `core/` and one symbolic link to each of them.
"""

__version__ = "0.2.0"
