"""Make ``tests/strategies.py`` importable as ``strategies`` (tests have no ``__init__.py``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
