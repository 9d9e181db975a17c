"""The kaifang web app (``kaifang serve``): a JSON API over the library and a browser front end.

The API validates scenarios with :func:`kaifang.scenario.parse_scenario`, solves them with
:func:`kaifang.models.run_scenario` in worker processes and keeps results in
:class:`kaifang.store.ResultsStore`, exactly as the command line does. See ``docs/web.md``.
"""

from kaifang.web._app import MAX_BODY_BYTES, STATIC_DIR, create_app

__all__ = ["DEFAULT_PORT", "MAX_BODY_BYTES", "STATIC_DIR", "create_app"]

DEFAULT_PORT = 8765
