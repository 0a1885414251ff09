"""The ``causaltrust`` command line (typer + rich): ``validate``, ``simulate``, ``effects``, ``demo``.

Exit codes: 0 ok, 1 an audit threshold failed, 2 bad input, 3 internal error (one line on stderr).

>>> from typer.testing import CliRunner
>>> from causaltrust.cli import app
>>> CliRunner().invoke(app, ["validate", "readmission"]).exit_code
0
"""

from causaltrust.cli._app import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, app, main

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERNAL", "EXIT_OK", "app", "main"]

from causaltrust.cli import (
    _decompose,  # noqa: F401  (registers `causaltrust decompose`)
    _discover,  # noqa: F401  (registers `causaltrust discover`)
    _lm_audit,  # noqa: F401  (registers `causaltrust lm-audit`)
    _sensitivity,  # noqa: F401  (registers `causaltrust sensitivity`)
    _text_audit,  # noqa: F401  (registers `text-audit`)
)
