"""``many-paths-exp1``: Many Paths to Equilibrium (Fedus et al. 2018) sec. 4.1, Experiment I -- data on a line in
d dimensions, generator G(z) = z W + b with a 1-D latent; the sweeps, metric and claims are :mod:`._many_paths`'.
"""

from __future__ import annotations

from . import Context, Result, register
from ._many_paths import EXP1, many_paths_claims, many_paths_table, reproduce


@register("many-paths-exp1", "Many Paths to Equilibrium (Fedus et al. 2018)",
          "sec. 4.1 Experiment I; sec. 4.3-4.4, Figs. 3, 5, 9; App. A.2, Figs. 11, 13",
          "GANs with and without gradient penalties learn a line in d dimensions; penalties make them more robust "
          "to the learning rate", table=lambda ctx: many_paths_table(ctx, "exp1"), claims=many_paths_claims("exp1"))
def run_exp1(ctx: Context) -> Result:
    return reproduce(ctx, EXP1, "exp1", "Exp. I (1-D latent)")
