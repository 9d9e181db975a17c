"""kaifang's gravity GE solver versus gegravity 0.3 (USITC) on the Advanced Guide's NAFTA experiment.

Identical inputs: kaifang's 1994 baseline of ``scenarios/agtpa-remove-nafta.toml`` (trade costs from
the book's two-stage estimation, output and expenditure from the data), sigma = 7, Germany the
reference importer, RTA = 0 among Canada, Mexico and the USA. Both solvers run warm in the same
process; times are wall-clock seconds of the equilibrium solve (kaifang: ``solve_gravity``, best of
5; gegravity: model set-up, ``build_baseline``, ``define_experiment`` and ``simulate``, second run).

gegravity's "full GE" multilateral resistances equal its conditional ones (a known limitation of
0.3), so the conditional-GE resistances are compared (must agree to 1e-6 relative); kaifang's
full-endowment results are compared with the book's own procedure (``tests/reference``).

Run: ``KAIFANG_DATA_MIRROR=/path/to/data PYTHONPATH=src python benchmarks/bench_gravity_vs_gegravity.py``
(needs ``pip install gegravity==0.3``). Prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SIGMA = 7.0
NAFTA = ["CAN", "MEX", "USA"]


def kaifang_inputs():
    from kaifang.models import run_scenario
    from kaifang.scenario import load_scenario

    res = run_scenario(load_scenario(ROOT / "scenarios" / "agtpa-remove-nafta.toml"))
    return res


def time_kaifang(X: np.ndarray, B: np.ndarray, ref: int) -> tuple[float, object]:
    from kaifang.models.gravity.solver import solve_gravity

    solve_gravity(X, B, SIGMA, reference=ref)  # warm-up
    best = np.inf
    sol = None
    for _ in range(5):
        t0 = time.perf_counter()
        sol = solve_gravity(X, B, SIGMA, reference=ref)
        best = min(best, time.perf_counter() - t0)
    return best, sol


def run_gegravity(b: pd.DataFrame, b_rta: float):
    import gegravity as ge

    cols = ["exporter", "importer", "year", "trade", "Y", "E", "ln_tbar", "rta"]
    bd = ge.BaselineData(b[cols], trade_var_name="trade", expend_var_name="E", output_var_name="Y")
    coef = ge.CostCoeffs(
        pd.DataFrame({"var": ["ln_tbar", "rta"], "coeff": [1.0, b_rta], "ste": [0.0, 0.0]}),
        identifier_col="var",
        coeff_col="coeff",
        stderr_col="ste",
    )
    m = ge.OneSectorGE(
        bd,
        year="1994",
        reference_importer="DEU",
        sigma=SIGMA,
        cost_variables=["ln_tbar", "rta"],
        cost_coeff_values=coef,
        quiet=True,
    )
    m.build_baseline()
    exp = b[cols].copy()
    exp.loc[b["nafta"].to_numpy(), "rta"] = 0.0
    m.define_experiment(exp)
    m.simulate()
    return m


def main() -> None:
    warnings.simplefilter("ignore")
    res = kaifang_inputs()
    bil = res.tables["bilateral"].copy()
    regions = list(res.regions["region"])
    n = len(regions)
    X = bil["trade_baseline"].to_numpy().reshape(n, n)
    B = bil["partial_effect"].to_numpy().reshape(n, n)
    ref = regions.index("DEU")
    t_k, sol = time_kaifang(X, B, ref)

    # gegravity inputs: the same t^(1-sigma) up to exporter and importer terms (which the
    # multilateral resistances absorb), scaled so that the resistances are near 1
    b_rta = float(res.provenance["estimation"]["coefficients"]["rta"])
    bil["nafta"] = (
        bil["exporter"].isin(NAFTA) & bil["importer"].isin(NAFTA) & (bil["exporter"] != bil["importer"])
    )
    bil["rta"] = bil["nafta"].astype(float)
    bil["year"] = "1994"
    bil["trade"] = bil["trade_baseline"]
    bil["Y"] = bil.groupby("exporter")["trade"].transform("sum")
    bil["E"] = bil.groupby("importer")["trade"].transform("sum")
    bil["ln_tbar"] = np.log(bil["trade"] / (bil["Y"] * bil["E"]) * bil["trade"].sum()) - b_rta * bil["rta"]
    run_gegravity(bil, b_rta)  # warm-up (imports, first calls)
    t0 = time.perf_counter()
    m = run_gegravity(bil, b_rta)
    t_g = time.perf_counter() - t0

    inv = 1.0 / (1.0 - SIGMA)
    mr = m.country_mr_terms.reindex(regions)
    g_imr = (mr["conditional imr"] / mr["baseline imr"]).to_numpy()
    g_omr = (mr["conditional omr"] / mr["baseline omr"]).to_numpy()
    k_imr = sol.conditional.P_hat**inv
    k_omr = sol.conditional.Pi_hat**inv
    rel = float(max(np.max(np.abs(g_imr / k_imr - 1)), np.max(np.abs(g_omr / k_omr - 1))))

    # full endowment versus the book's procedure (its loop stops when prices move < 0.01)
    sys.path.insert(0, str(ROOT / "tests"))
    from kaifang.data.agtpa import read_agtpa
    from reference.book_procedure import book_ge

    d = read_agtpa("Chapter2Application2.dta")
    d = d[d["year"] == 1994][["exporter", "importer", "trade"]].merge(
        res.tables["bilateral"], on=["exporter", "importer"]
    )
    ln0 = np.log(d["trade_baseline"].to_numpy())
    book, rounds = book_ge(d, ln0, ln0 + np.log(d["partial_effect"].to_numpy()), sigma=SIGMA, reference="DEU")
    r = res.regions.set_index("region")
    rgdp = ((book["Y_FULL"] / book["IMR_FULL"] ** inv) / (book["Y_BLN"] / book["IMR_BLN"] ** inv) - 1) * 100
    price = (book["change_pricei_FULL"] - 1) * 100
    exports = (book["Xi_FULL"] / book["Xi_BLN"] - 1) * 100
    doc = {
        "benchmark": "gravity_vs_gegravity",
        "experiment": "agtpa-remove-nafta (1994, 69 countries, sigma 7)",
        "kaifang_seconds": t_k,
        "gegravity_seconds": t_g,
        "ratio": t_g / t_k,
        "conditional_mr_max_rel_diff": rel,
        "conditional_agrees_1e-6": rel < 1e-6,
        "kaifang_iterations": {"conditional": sol.conditional.iterations, "full": sol.full.iterations},
        "full_vs_book_loop_max_abs_diff_points": {
            "real_gdp_pct": float(np.max(np.abs(r["real_gdp_pct"] - rgdp.reindex(r.index)))),
            "producer_price_pct": float(np.max(np.abs(r["producer_price_pct"] - price.reindex(r.index)))),
            "exports_pct": float(np.max(np.abs(r["exports_pct"] - exports.reindex(r.index)))),
            "book_rounds": rounds,
        },
    }
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
