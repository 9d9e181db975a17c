"""The result of one scenario run: per-region table, extra tables, diagnostics, provenance."""

from kaifang.results._impl import RunResult, package_version

__all__ = ["RunResult", "package_version"]
