"""The package version, in a module low enough for any layer to import (never the package face)."""

__version__ = "0.1.0"
