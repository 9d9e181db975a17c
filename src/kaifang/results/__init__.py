"""The result of one scenario run: per-region table, extra tables, diagnostics, provenance,
warnings; and the sanity checks every result passes (:func:`check_result`)."""

from kaifang.results._columns import Columns
from kaifang.results._impl import RunResult, package_version
from kaifang.results.checks import ResultCheckError, check_result, flag_no_trade

__all__ = ["Columns", "ResultCheckError", "RunResult", "check_result", "flag_no_trade", "package_version"]
