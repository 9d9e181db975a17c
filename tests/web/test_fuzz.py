"""Property-based fuzzing of the OpenAPI document with schemathesis: no request makes a 5xx.

Every operation of /openapi.json gets generated requests (valid and invalid by the schema), sent
to the app in-process (ASGI). Bounded: a few examples per operation, no shrinking deadline.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from kaifang.web import create_app

_TMP = tempfile.TemporaryDirectory(prefix="kaifang-fuzz-")
app = create_app(Path(_TMP.name) / "runs.duckdb", prestart=False)
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def _stop_workers():
    yield
    app.state.jobs.close()
    _TMP.cleanup()


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_error_on_any_generated_request(case):
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance])
