"""Writing files so that no reader ever sees half of one: the package's one atomic write."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success move it over ``path``, on failure delete it.

    The temporary file lives in the same folder, so ``os.replace`` is atomic: readers see the old file
    or the complete new one, never a half-written one. Missing parent folders are created, and the
    finished file gets the usual mode (``0666`` less the umask), not ``mkstemp``'s ``0600``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "page.html"
    >>> with atomic_write(out) as tmp:
    ...     _ = tmp.write_text("<p>done</p>", encoding="utf-8")
    >>> out.read_text(encoding="utf-8")
    '<p>done</p>'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
