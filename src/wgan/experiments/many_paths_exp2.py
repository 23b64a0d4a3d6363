"""``many-paths-exp2``: Many Paths to Equilibrium (Fedus et al. 2018) sec. 4.2, Experiment II -- the data of
Experiment I, an overcomplete linear generator with latent size g, 1 < g <= d; the sweeps, metric and claims are
:mod:`._many_paths`'.
"""

from __future__ import annotations

from . import Context, Result, register
from ._many_paths import EXP2, many_paths_claims, many_paths_table, reproduce


@register("many-paths-exp2", "Many Paths to Equilibrium (Fedus et al. 2018)",
          "sec. 4.2 Experiment II; sec. 4.3-4.4, Figs. 4, 5, 10; App. A.2, Figs. 12, 14",
          "the same with an overcomplete linear generator (latent size g = max(2, d // 2))",
          table=lambda ctx: many_paths_table(ctx, "exp2"), claims=many_paths_claims("exp2"))
def run_exp2(ctx: Context) -> Result:
    return reproduce(ctx, EXP2, "exp2", "Exp. II (overcomplete latent)")
