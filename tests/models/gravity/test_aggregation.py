"""Gravity GE on an aggregated world input-output table (``[baseline.regions]``).

The aggregated world's flows must be the sums of the unaggregated world's flows over the
merged regions (computed here with an indicator matrix). The table's corrections (for example
negative changes in inventories moved to intermediate use) are applied after aggregation, so
the sums agree to 0.1 % of each block rather than exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.errors import ScenarioError
from kaifang.models.gravity.runner import prepare, run
from kaifang.scenario import parse_scenario

BODY = """name = "t"
model = "gravity"
dataset = "{dataset}"
[baseline]
year = {year}
{regions}
[parameters]
sigma = 5
reference = "{reference}"
[[shocks]]
type = "iceberg"
importer = "USA"
exporter = "CHN"
value = 10
"""

AGG = '[baseline.regions]\nEU = "EU@2011"\nUSA = "USA"\nCHN = "CHN"\n'


def _scenario(regions: str = "", reference: str = "USA", dataset: str = "wiod2013", year: int = 2011):
    return parse_scenario(BODY.format(dataset=dataset, year=year, regions=regions, reference=reference))


@pytest.mark.data
def test_aggregated_flows_are_the_sums_over_merged_regions():
    require_dataset("wiod2013")
    b0 = prepare(_scenario()).baseline
    b1 = prepare(_scenario(AGG)).baseline
    assert b1.regions == ("EU", "USA", "CHN", "ROW")
    members = b1.notes["aggregation"]["regions"]
    assert len(members["EU"]) == 27 and "DEU" in members["EU"] and "CAN" in members["ROW"]
    pos = {r: i for i, r in enumerate(b0.regions)}
    M = np.zeros((len(b1.regions), len(b0.regions)))
    for k, new in enumerate(b1.regions):
        M[k, [pos[m] for m in members[new]]] = 1.0
    assert (M.sum(axis=0) == 1).all()  # every original region in exactly one new one
    np.testing.assert_allclose(b1.X, M @ b0.X @ M.T, rtol=1e-3)


@pytest.mark.data
def test_an_aggregated_run_solves_and_names_merged_countries():
    require_dataset("wiod2013")
    res = run(_scenario(AGG))
    assert list(res.regions["region"]) == ["EU", "USA", "CHN", "ROW"]
    w = res.regions.set_index("region")["welfare_pct"]
    assert w["CHN"] < 0 and np.isfinite(w).all()
    with pytest.raises(ScenarioError, match=r"'parameters.reference'.*DEU.*merged it into 'EU'; name 'EU'"):
        run(_scenario(AGG, reference="DEU"))


def test_aggregation_of_a_panel_is_refused():
    sc = _scenario('[baseline.regions]\nEU = "EU"\n', dataset="demo", year=2000)
    with pytest.raises(
        ScenarioError, match=r"'baseline.regions' aggregates the regions of a world input-output"
    ):
        run(sc)
