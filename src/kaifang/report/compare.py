"""Side-by-side comparison of runs: key outcomes per region per run."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from kaifang.results import RunResult

__all__ = [
    "KEY_OUTCOMES",
    "compare_runs",
    "key_outcomes",
    "measure_warning",
    "welfare_label",
    "welfare_measure",
]

#: Outcomes shown by default when a run has them, in this order.
KEY_OUTCOMES = (
    "welfare_pct",
    "real_wage_pct",
    "exports_pct",
    "imports_pct",
    "terms_of_trade_pct",
    "volume_of_trade_pct",
)


def key_outcomes(results: Sequence[RunResult], outcomes: Sequence[str] | None = None) -> list[str]:
    """The outcome columns to compare: ``outcomes`` if given (each must be in some run), else
    the :data:`KEY_OUTCOMES` present in at least one run (at least the first ``_pct`` column)."""
    cols = [c for r in results for c in r.regions.columns if c != "region"]
    if outcomes:
        missing = [o for o in outcomes if o not in cols]
        if missing:
            from kaifang.errors import UserInputError, suggest

            raise UserInputError(
                f"no run has the outcome {missing[0]!r}.{suggest(missing[0], set(cols))} "
                f"Outcomes of these runs: {', '.join(dict.fromkeys(cols))}."
            )
        return list(outcomes)
    got = [o for o in KEY_OUTCOMES if o in cols]
    if not got:
        got = [c for c in dict.fromkeys(cols) if c.endswith("_pct")][:3]
    return got


def compare_runs(results: Mapping[str, RunResult], outcomes: Sequence[str] | None = None) -> pd.DataFrame:
    """A tidy table: one row per region and run, the key outcomes as columns.

    Parameters
    ----------
    results
        Label (run id or scenario name) -> result, in display order.
    outcomes
        Which outcome columns; default :func:`key_outcomes`.

    Returns
    -------
    pandas.DataFrame
        Columns ``region``, ``run``, ``scenario``, ``model``, then the outcomes (NaN where a
        run lacks an outcome). Regions appear in first-seen order; a region that one run's
        data set lacks simply has no row for that run.
    """
    outs = key_outcomes(list(results.values()), outcomes)
    frames = []
    for label, res in results.items():
        df = res.regions.copy()
        for o in outs:
            if o not in df.columns:
                df[o] = float("nan")
        df = df[["region", *outs]].copy()
        df.insert(1, "run", label)
        df.insert(2, "scenario", res.scenario)
        df.insert(3, "model", res.model)
        frames.append(df)
    tidy = pd.concat(frames, ignore_index=True)
    order = {r: i for i, r in enumerate(dict.fromkeys(tidy["region"]))}
    runs = {r: i for i, r in enumerate(results)}
    tidy = tidy.assign(_r=tidy["region"].map(order), _k=tidy["run"].map(runs))
    return tidy.sort_values(["_r", "_k"]).drop(columns=["_r", "_k"]).reset_index(drop=True)


def welfare_measure(res: RunResult) -> str:
    """What the run's ``welfare_pct`` measures, as its model states it (``diagnostics.welfare_measure``);
    empty when the run does not say (older runs)."""
    return str(res.diagnostics.get("welfare_measure") or "")


def welfare_label(res: RunResult) -> str:
    """A short name of the run's welfare measure, e.g. ``"exact change in real income"``: the
    first clause of :func:`welfare_measure` (after ``"welfare_pct is the"``); empty if unstated."""
    text = welfare_measure(res)
    text = re.sub(r"^\s*welfare_pct\s+is\s+(the\s+)?", "", text)
    return re.split(r"[,;:(]", text, maxsplit=1)[0].strip()


def measure_warning(results: Mapping[str, RunResult]) -> str | None:
    """A sentence when the runs' ``welfare_pct`` columns measure different things (their models
    state different welfare measures, or some state none), else ``None``."""
    with_welfare = {k: r for k, r in results.items() if "welfare_pct" in r.regions.columns}
    labels = {k: welfare_label(r) or "not stated by the run" for k, r in with_welfare.items()}
    if len(set(labels.values())) <= 1:
        return None
    listed = "; ".join(f"{k}: {v}" for k, v in labels.items())
    return (
        f"these runs measure welfare_pct differently ({listed}), so their welfare_pct columns are not "
        f"comparable as they stand; see each run's diagnostics.welfare_measure."
    )
