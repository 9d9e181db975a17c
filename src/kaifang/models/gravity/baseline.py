"""The one-sector gravity world now lives in :mod:`kaifang.baseline.onesector` (the one home of
calibrated worlds); this module re-exports it for code that imports it from here."""

from kaifang.baseline.onesector import GravityBaseline, calibrate_flows, cost_matrix, square_matrix

__all__ = ["GravityBaseline", "calibrate_flows", "cost_matrix", "square_matrix"]
