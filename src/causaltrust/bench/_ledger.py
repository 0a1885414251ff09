"""The ledger: one DuckDB file holding every finished cell of a sweep, its metrics and notes.

Only the sweep's client process writes it, one transaction per finished cell, opening and closing the
connection around each transaction: other processes (a report, a test polling progress) can read between
writes, and a process killed at any moment leaves either the whole cell or none of it.

Sweeps sharing one ledger claim each cell before running it (table ``claims``: owner, pid, host and a
heartbeat, each claim one short transaction). A cell claimed by a live sweep is left to it; a claim whose
process is gone (same host, pid not running) or whose heartbeat is older than the claim's time to live
is free again, so a killed sweep never blocks the next one for long.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from causaltrust._version import __version__
from causaltrust.exceptions import BenchError

__all__ = [
    "LEDGER_FORMAT",
    "SCHEMA_VERSION",
    "Claim",
    "Ledger",
    "LedgerData",
    "SweepStats",
    "check_store",
]

LEDGER_FORMAT = "causaltrust-ledger"
SCHEMA_VERSION = 1
# Another process holding the file (a reader, or a writer of the same file) makes DuckDB refuse the lock;
# waiting a little is always right since every holder closes its connection after one short transaction.
LOCK_WAIT_S = 60.0

_SCHEMA = (
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE cells (
        cell_id VARCHAR PRIMARY KEY,
        scenario VARCHAR NOT NULL,
        spec_hash VARCHAR NOT NULL,
        method VARCHAR NOT NULL,
        params_json VARCHAR NOT NULL,
        seed BIGINT NOT NULL,
        settings_json VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        error VARCHAR,
        traceback VARCHAR,
        fit_seconds DOUBLE,
        audit_seconds DOUBLE,
        cpu_seconds DOUBLE,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        package_version VARCHAR,
        host VARCHAR,
        extras_json VARCHAR
    )""",
    """CREATE TABLE metrics (
        cell_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        value DOUBLE,
        low DOUBLE,
        high DOUBLE,
        better VARCHAR,
        passed BOOLEAN,
        PRIMARY KEY (cell_id, name)
    )""",
    "CREATE TABLE notes (cell_id VARCHAR NOT NULL, note VARCHAR NOT NULL)",
)
# Added to ledgers of schema 1 on their first sweep (older readers ignore tables they do not know).
_CLAIMS = """CREATE TABLE IF NOT EXISTS claims (
    cell_id VARCHAR PRIMARY KEY,
    owner VARCHAR NOT NULL,
    pid BIGINT NOT NULL,
    host VARCHAR NOT NULL,
    heartbeat DOUBLE NOT NULL
)"""
# One DuckDB connection at a time per process: the sweep's heartbeat thread and its main thread share
# the file, and DuckDB refuses a read-only and a read-write connection to one file in one process.
_PROCESS_LOCK = threading.RLock()
CELL_COLUMNS = (
    "cell_id",
    "scenario",
    "spec_hash",
    "method",
    "params_json",
    "seed",
    "settings_json",
    "status",
    "error",
    "traceback",
    "fit_seconds",
    "audit_seconds",
    "cpu_seconds",
    "started_at",
    "finished_at",
    "package_version",
    "host",
    "extras_json",  # JSON-able extras of the audit (recourse examples, infeasible shares)
)
METRIC_COLUMNS = ("cell_id", "name", "value", "low", "high", "better", "passed")


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the sweep ledger needs DuckDB: pip install 'causaltrust[bench]' (or pip install duckdb)"
        ) from None
    return duckdb


@contextlib.contextmanager
def _connect(path: Path, *, read_only: bool, wait_s: float = LOCK_WAIT_S) -> Iterator[Any]:
    duckdb = _duckdb()
    deadline = time.monotonic() + wait_s
    delay = 0.01
    with _PROCESS_LOCK:
        while True:
            try:
                con = duckdb.connect(str(path), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
        try:
            yield con
        finally:
            con.close()


@dataclass(frozen=True)
class Claim:
    """Who runs cells of a sweep: a unique owner string, its process id and host, and the claims' lifetime."""

    owner: str
    pid: int
    host: str
    ttl: float  # seconds without a heartbeat after which a claim is free again

    @classmethod
    def new(cls, ttl: float) -> Claim:
        pid, host = os.getpid(), socket.gethostname()
        return cls(f"{host}:{pid}:{os.urandom(4).hex()}", pid, host, float(ttl))

    def holder_alive(self, pid: int, host: str, heartbeat: float, now: float) -> bool:
        """Whether a claim by (pid, host) with this heartbeat still stands."""
        if now - heartbeat > self.ttl:
            return False
        if host == self.host:
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return False
            except (PermissionError, OverflowError):
                return True
        return True


def _file_kind(path: Path) -> str:
    """``duckdb`` for a DuckDB database file (magic bytes ``DUCK`` at offset 8), else what it looks like."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as exc:
        return f"unreadable ({exc.strerror or type(exc).__name__})"
    if len(head) >= 12 and head[8:12] == b"DUCK":
        return "duckdb"
    if not head:
        return "an empty file"
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    if head.startswith((b"\x89PNG", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"SQLite format")):
        return "a binary file of another format"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "a binary file of another format"
    return "a text file"


def check_store(store: str | os.PathLike[str]) -> Path:
    """Validate a ledger path without touching the file: a causaltrust ledger, or a new file.

    Returns the path. Raises :class:`BenchError` when the file exists but is not a causaltrust ledger
    (opened read-only, so the file is left byte for byte as it was), or when its folder does not exist.
    """
    if not isinstance(store, str | os.PathLike):
        raise BenchError(f"store: expected a path to a .duckdb file, got {type(store).__name__}")
    path = Path(store)
    if path.is_dir():
        raise BenchError(f"store: {str(path)!r} is a folder; give a file path such as 'results.duckdb'")
    if not path.exists():
        if not path.parent.exists():
            raise BenchError(f"store: the folder {str(path.parent)!r} of {str(path)!r} does not exist")
        return path
    duckdb = _duckdb()
    what = f"store: {str(path)!r} exists but is not a causaltrust ledger"
    kind = _file_kind(path)
    if kind != "duckdb":
        raise BenchError(
            f"{what}: it is {kind}, not a DuckDB database; give the .duckdb file a sweep wrote "
            "(ct.bench.run / causaltrust bench) or a new file name"
        )
    try:
        with _connect(path, read_only=True) as con:
            rows = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            tables = {r[0] for r in rows}
            if "meta" not in tables:
                raise BenchError(f"{what} (no 'meta' table); choose another file or delete it")
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            lacking = sorted({"cells", "metrics", "notes"} - tables)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(f"{what}: DuckDB cannot read it ({first}); choose another file") from None
    if meta.get("format") != LEDGER_FORMAT:
        raise BenchError(f"{what} (meta format is {meta.get('format')!r}, expected {LEDGER_FORMAT!r})")
    if lacking:
        raise BenchError(
            f"store: the ledger {str(path)!r} is damaged: it lacks the table(s) {lacking}; restore it from a "
            "copy or start a new ledger"
        )
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise BenchError(
            f"store: {str(path)!r} is a ledger of schema version {version}; this causaltrust reads up to "
            f"{SCHEMA_VERSION}: upgrade causaltrust"
        )
    return path


@dataclass(frozen=True)
class SweepStats:
    """What the last call of :func:`run` did (``Ledger.last_sweep``)."""

    n_cells: int  # cells in the sweep
    n_skipped: int  # already ``ok`` in the ledger
    n_ran: int
    n_failed: int
    wall_seconds: float
    write_seconds: float  # time spent writing results to the ledger (client side)
    write_cpu_seconds: float  # CPU time of those writes (robust to a busy machine)
    cell_seconds: float  # fit + audit seconds summed over the cells that ran
    cpu_seconds: float  # CPU seconds of those cells (process time of the process that ran each)


@dataclass(frozen=True)
class LedgerData:
    """A plain-data snapshot of a ledger (what reports and analyses read).

    Attributes
    ----------
    meta : dict
        ``format``, ``schema_version``, ``created_at``, ``package_version``.
    cells : DataFrame
        One row per cell (identity, status, error, timings, provenance).
    metrics : DataFrame
        Tidy metrics: ``cell_id, name, value, low, high, better, passed``.
    notes : DataFrame
        ``cell_id, note``.
    """

    meta: dict[str, str]
    cells: pd.DataFrame
    metrics: pd.DataFrame
    notes: pd.DataFrame


class Ledger:
    """A sweep ledger on disk (DuckDB). Cheap to hold: it keeps only the path and opens per operation.

    Examples
    --------
    >>> import tempfile, os
    >>> from causaltrust.bench import Ledger
    >>> path = os.path.join(tempfile.mkdtemp(), "results.duckdb")
    >>> led = Ledger.open(path, create=True)
    >>> len(led), led.meta()["format"]
    (0, 'causaltrust-ledger')
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.last_sweep: SweepStats | None = None  # set by ct.bench.run
        self._claims_ready = False

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r}): {self._counts()}"

    def _counts(self) -> str:
        """``38 cells: 36 ok, 2 failed; 19 methods, 2 seeds`` (read-only; never raises)."""
        if not self.path.exists():
            return "no file yet"
        try:
            with _connect(self.path, read_only=True, wait_s=1.0) as con:
                status = dict(con.execute("SELECT status, count(*) FROM cells GROUP BY status").fetchall())
                methods, seeds = con.execute(
                    "SELECT count(DISTINCT method), count(DISTINCT seed) FROM cells"
                ).fetchone()
        except Exception as exc:  # a repr must not raise: say what could not be read
            return f"unreadable ({type(exc).__name__})"
        total = sum(status.values())
        if not total:
            return "no cells"
        parts = ", ".join(f"{n} {k}" for k, n in sorted(status.items()))
        return f"{total} cells: {parts}; {methods} methods, {seeds} seeds"

    def _repr_html_(self) -> str:
        """A notebook summary: cell counts and the mean [95% interval] over seeds per configuration."""
        import html

        from causaltrust._format import fmt_value_interval, html_table
        from causaltrust.bench._summary import summarize

        if not self.path.exists():
            return f"<p>{html.escape(repr(self))}</p>"
        agg = summarize(self)
        shown = [
            c
            for c in ("accuracy.observational", "accuracy.interventional", "fairness.unfair_path_effect")
            if c in agg.columns
        ]
        rows = [
            (
                r["config"],
                r["n_seeds"],
                *(fmt_value_interval(r[c], r[c + "::lo"], r[c + "::hi"]) for c in shown),
            )
            for _, r in agg.iterrows()
        ]
        table = html_table(("configuration", "seeds", *shown), rows) if rows else ""
        return f"<p><b>{html.escape(repr(self))}</b></p>{table}"

    # -- opening ---------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = False) -> Ledger:
        """Open an existing ledger (validated read-only first), or create one when ``create=True``.

        Raises :class:`BenchError` for a file that is not a causaltrust ledger (left untouched) or for a
        missing file without ``create``.
        """
        p = check_store(path)
        if not p.exists():
            if not create:
                raise BenchError(f"no ledger at {str(p)!r}; run a sweep first (ct.bench.run(..., store=...))")
            cls._create(p)
        return cls(p)

    @staticmethod
    def _create(path: Path) -> None:
        # Built under a temporary name and renamed: a process killed here leaves no half-made ledger.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        with _connect(tmp, read_only=False) as con:
            for stmt in _SCHEMA:
                con.execute(stmt)
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format", LEDGER_FORMAT),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("created_at", pd.Timestamp.now(tz="UTC").isoformat()),
                    ("package_version", __version__),
                ],
            )
        try:
            # link, not rename: never replaces a ledger another sweep created meanwhile.
            os.link(tmp, path)
        except FileExistsError:
            tmp.unlink()
            check_store(path)
            return
        except OSError:  # file systems without hard links
            os.replace(tmp, path)
            return
        tmp.unlink()

    # -- writing (the sweep's client only) -------------------------------------------------------------
    def write(self, result: Mapping[str, Any]) -> None:
        """Record one finished cell in ONE transaction, replacing whatever the ledger held for it."""
        cell = tuple(result.get(c) for c in CELL_COLUMNS)
        cid = result["cell_id"]
        metrics = [
            (cid, m["name"], m["value"], m["low"], m["high"], m["better"], m["passed"])
            for m in result.get("metrics", ())
        ]
        notes = [(cid, n) for n in result.get("notes", ())]
        with _connect(self.path, read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for table in ("metrics", "notes", "cells"):
                    con.execute(f"DELETE FROM {table} WHERE cell_id = ?", [cid])
                if self._claims_ready:
                    con.execute("DELETE FROM claims WHERE cell_id = ?", [cid])
                con.execute(f"INSERT INTO cells VALUES ({', '.join('?' * len(CELL_COLUMNS))})", list(cell))
                # One multi-row statement per table: executemany costs a statement per row.
                for table, rows in (("metrics", metrics), ("notes", notes)):
                    if rows:
                        one = f"({', '.join('?' * len(rows[0]))})"
                        flat = [v for row in rows for v in row]
                        con.execute(f"INSERT INTO {table} VALUES {', '.join([one] * len(rows))}", flat)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # -- claims (sweeps sharing a ledger) ---------------------------------------------------------------
    def prepare_writing(self) -> None:
        """Check that this process can write the ledger (before any cell is computed); add ``claims``.

        Raises :class:`BenchError` naming the file when it, or its folder (DuckDB writes a journal next to
        it), is not writable.
        """
        for what, target in (("file", self.path), ("folder", self.path.parent)):
            if not os.access(target, os.W_OK):
                raise BenchError(
                    f"store: the ledger {str(self.path)!r} cannot be written (its {what} is read-only); "
                    "copy it somewhere writable or choose another --store"
                )
        duckdb = _duckdb()
        try:
            with _connect(self.path, read_only=False) as con:
                con.execute(_CLAIMS)
        except duckdb.Error as exc:
            msg = f"store: the ledger {str(self.path)!r} cannot be written ({str(exc).splitlines()[0]})"
            raise BenchError(msg) from None
        self._claims_ready = True

    def claim_next(self, candidates: Sequence[str], claim: Claim) -> tuple[str | None, set[str], set[str]]:
        """Claim the first of ``candidates`` that is neither finished nor held by a live sweep.

        One short transaction. Returns ``(claimed id or None, ids finished meanwhile, ids held by others)``.
        """
        now = time.time()
        with _connect(self.path, read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                done = {r[0] for r in con.execute("SELECT cell_id FROM cells WHERE status = 'ok'").fetchall()}
                held = set()
                for cid, owner, pid, host, beat in con.execute("SELECT * FROM claims").fetchall():
                    if owner != claim.owner and claim.holder_alive(pid, host, beat, now):
                        held.add(cid)
                chosen = next((c for c in candidates if c not in done and c not in held), None)
                if chosen is not None:
                    con.execute("DELETE FROM claims WHERE cell_id = ?", [chosen])
                    con.execute(
                        "INSERT INTO claims VALUES (?, ?, ?, ?, ?)",
                        [chosen, claim.owner, claim.pid, claim.host, now],
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        cands = set(candidates)
        return chosen, done & cands, held & cands

    def heartbeat(self, claim: Claim) -> None:
        """Refresh every claim held by ``claim.owner``."""
        with _connect(self.path, read_only=False) as con:
            con.execute("UPDATE claims SET heartbeat = ? WHERE owner = ?", [time.time(), claim.owner])

    def release(self, claim: Claim) -> None:
        """Drop every claim held by ``claim.owner`` (cells not finished go back to whoever runs next)."""
        with _connect(self.path, read_only=False) as con:
            con.execute("DELETE FROM claims WHERE owner = ?", [claim.owner])

    def claims(self) -> pd.DataFrame:
        """Current claims: ``cell_id, owner, pid, host, heartbeat`` (empty for a ledger never swept)."""
        with _connect(self.path, read_only=True) as con:
            names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if "claims" not in names:
                return pd.DataFrame(columns=["cell_id", "owner", "pid", "host", "heartbeat"])
            return con.execute("SELECT * FROM claims ORDER BY cell_id").df()

    # -- reading --------------------------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with _connect(self.path, read_only=True) as con:
            return con.execute(sql, list(params)).df()

    def meta(self) -> dict[str, str]:
        """The ledger's own metadata (format tag, schema version, creation time, package version)."""
        with _connect(self.path, read_only=True) as con:
            return dict(con.execute("SELECT key, value FROM meta").fetchall())

    def __len__(self) -> int:
        with _connect(self.path, read_only=True) as con:
            return int(con.execute("SELECT count(*) FROM cells").fetchone()[0])

    def finished_ids(self) -> set[str]:
        """Ids of the cells recorded with status ``ok`` (a re-run skips them; failed cells run again)."""
        with _connect(self.path, read_only=True) as con:
            return {r[0] for r in con.execute("SELECT cell_id FROM cells WHERE status = 'ok'").fetchall()}

    def cells(self, status: str | None = None) -> pd.DataFrame:
        """One row per cell, ordered by scenario, method, parameters and seed (``status`` filters)."""
        where, params = ("WHERE status = ?", [status]) if status is not None else ("", [])
        return self._query(
            f"SELECT * FROM cells {where} ORDER BY scenario, method, params_json, seed, cell_id", params
        )

    def metrics(self) -> pd.DataFrame:
        """Tidy metrics joined with their cell's identity (one row per cell and metric)."""
        return self._query(
            "SELECT c.scenario, c.method, c.params_json, c.seed, m.* FROM metrics m JOIN cells c USING "
            "(cell_id) ORDER BY c.scenario, c.method, c.params_json, c.seed, m.cell_id, m.name"
        )

    def notes(self) -> pd.DataFrame:
        """``cell_id, note`` rows."""
        return self._query("SELECT cell_id, note FROM notes ORDER BY cell_id, note")

    def to_frame(self, *, wide: bool = True, status: str | None = "ok") -> pd.DataFrame:
        """Metrics per cell: wide (one row per cell, one column per metric) or tidy.

        Wide frames carry ``cell_id, scenario, method, params_json, seed`` and then the metric columns;
        they are what :func:`~causaltrust.bench.pareto_front` and friends take.

        Examples
        --------
        >>> import tempfile, os
        >>> from causaltrust.bench import Ledger
        >>> led = Ledger.open(os.path.join(tempfile.mkdtemp(), "r.duckdb"), create=True)
        >>> list(led.to_frame().columns)
        ['cell_id', 'scenario', 'method', 'params_json', 'seed']
        """
        tidy = self.metrics()
        if status is not None:
            keep = set(self.cells(status)["cell_id"])
            tidy = tidy[tidy["cell_id"].isin(keep)]
        if not wide:
            return tidy.reset_index(drop=True)
        ident = ["cell_id", "scenario", "method", "params_json", "seed"]
        cells = self.cells(status)[ident]
        if tidy.empty:
            return cells.reset_index(drop=True)
        values = tidy.pivot(index="cell_id", columns="name", values="value")
        values.columns.name = None
        return cells.merge(values, left_on="cell_id", right_index=True, how="left").reset_index(drop=True)

    def verify(self) -> None:
        """Read every row once and parse its JSON: :class:`BenchError` naming the file if it is damaged.

        A truncated file, overwritten bytes (DuckDB's block checksums) or a JSON column that no longer
        parses would otherwise surface in the middle of a sweep, or in its summary, as an internal error.
        Costs one full read of the ledger.
        """
        import json

        duckdb = _duckdb()
        try:
            data = self.data()
            for column in ("params_json", "settings_json", "extras_json"):
                for text in data.cells[column].dropna():
                    json.loads(text)
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise BenchError(f"ledger {str(self.path)!r} is damaged and cannot be read ({first})") from None
        except ValueError as exc:  # json.JSONDecodeError is one
            raise BenchError(f"ledger {str(self.path)!r} holds invalid JSON in a row ({exc})") from None

    def data(self) -> LedgerData:
        """Everything in the ledger as plain DataFrames (one consistent read)."""
        with _connect(self.path, read_only=True) as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
            cells = con.execute("SELECT * FROM cells ORDER BY cell_id").df()
            metrics = con.execute("SELECT * FROM metrics ORDER BY cell_id, name").df()
            notes = con.execute("SELECT * FROM notes ORDER BY cell_id, note").df()
        return LedgerData(meta, cells, metrics, notes)
