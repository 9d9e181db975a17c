"""One-sector structural gravity (Armington-CES): conditional and full-endowment GE.

``solve_gravity`` (arrays in, equilibria out) is the entry point for other models and
cross-checks; ``runner.run`` solves ``model = "gravity"`` scenario files.
"""

from kaifang.models.gravity.solver import GESolution, GravitySolution, solve_gravity

__all__ = ["GESolution", "GravitySolution", "solve_gravity"]
