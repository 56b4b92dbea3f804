"""hwplan cost model: fitted performance and power models, costs, and the planner.

Public API in `hwplan.costmodel.api` (fit_models, predict, predict_curve, scaling_curve, plan) and
`hwplan.costmodel.assumptions.Assumptions`. Nothing here imports torch; the planning path imports
neither sklearn nor scipy (fitted coefficients are cached as JSON and evaluated with numpy).
"""

CODE_VERSION = "costmodel-10"  # the fitted state as PerformanceModel.to_dict writes it
