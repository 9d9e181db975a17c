"""Scenario files (TOML): schema, validation and region/sector selection."""

from kaifang.scenario._impl import Scenario, load_scenario, parse_scenario, scenario_file, validate_section
from kaifang.scenario.select import BUILTIN_GROUPS, resolve

__all__ = [
    "BUILTIN_GROUPS",
    "Scenario",
    "load_scenario",
    "parse_scenario",
    "resolve",
    "scenario_file",
    "validate_section",
]
