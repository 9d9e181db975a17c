"""Sweep files on the synthetic demo world, shared by the sweep tests."""

from __future__ import annotations

#: A two-shock tariff war on the synthetic demo world; ``{sweep}`` is the [sweep] section.
DEMO_BASE = """\
name = "demo-war"
description = "test sweep"
model = "caliendo_parro"
dataset = "demo"

[baseline]
deficits = "zero"

[[shocks]]
type = "tariff"
op = "add"
importer = "XAA"
exporter = "XBB"
value = 25

[[shocks]]
type = "tariff"
op = "add"
importer = "XBB"
exporter = "XAA"
value = 25

[solver]
tol = 1e-10
max_iter = 5000

{sweep}
"""

#: Three tariff levels x two coalitions.
GRID = """\
[sweep]
mode = "grid"
[[sweep.dimension]]
field = ["shocks[0].value", "shocks[1].value"]
values = [0, 10, 30]
label = "tariff"
[[sweep.dimension]]
field = "shocks[1].importer"
values = [["XBB"], "all"]
label = "coalition"
"""
