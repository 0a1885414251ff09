"""``ct.bench.run`` / ``plan`` take their audit settings as one ``AuditOptions`` (issue 29)."""

from __future__ import annotations

import hashlib
import json

import pytest

from causaltrust import bench
from causaltrust.audit import AuditOptions


def _ids(**kw):
    return [t.cell_id for t in bench.plan("readmission", methods=["erm"], seeds=[0, 1], **kw)]


def _expected_id(settings):
    """The documented identity rule, written out here: SHA-256 of the sorted-key JSON of the cell."""
    from causaltrust.scenarios import load

    spec, _ = load("readmission")
    ident = {
        "scenario": "readmission",
        "spec_hash": spec.hash,
        "data": None,
        "method": "erm",
        "params": bench.plan("readmission", methods=["erm"], seeds=[0])[0].params,
        "seed": 0,
        "settings": settings,
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_options_and_shorthand_give_the_same_cells():
    opts = AuditOptions(n_bootstrap=30, n_shadow=2, recourse_units=40, shift_n=500)
    via_options = _ids(options=opts)
    via_keywords = _ids(n_bootstrap=30, n_shadow=2, recourse_units=40, audit_kwargs={"shift_n": 500})
    assert via_options == via_keywords
    task = bench.plan("readmission", methods=["erm"], seeds=[0], options=opts)[0]
    assert task.settings == {
        "n_train": 20_000,
        "n_test": 20_000,
        "n_bootstrap": 30,
        "n_shadow": 2,
        "recourse_units": 40,
    }
    assert task.audit_kwargs == {"shift_n": 500}


def test_defaults_leave_the_cell_identity_as_it_was():
    # Settings at AuditOptions' defaults are the same cells whichever way they are (not) given.
    plain = _ids()
    assert _ids(options=AuditOptions()) == plain
    assert _ids(audit_kwargs={"n_draws": 1}) == plain  # n_draws=1 is the default
    settings = {
        "n_train": 20_000,
        "n_test": 20_000,
        "n_bootstrap": 200,
        "n_shadow": 8,
        "recourse_units": 200,
        "audit": {},
    }
    assert plain[0] == _expected_id(settings)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n_bootstrap": 30}, r"\['n_bootstrap'\] were given both"),
        ({"audit_kwargs": {"shift_n": 10}}, r"\['shift_n'\] were given both"),
    ],
)
def test_a_setting_given_twice_is_refused(kw, match):
    with pytest.raises(bench.BenchError, match=match):
        bench.plan("readmission", methods=["erm"], seeds=[0], options=AuditOptions(), **kw)


def test_bad_options_are_a_bench_error():
    with pytest.raises(bench.BenchError, match="n_shadow: expected an integer >= 0"):
        bench.plan("readmission", methods=["erm"], seeds=[0], n_shadow=-1)
    with pytest.raises(bench.BenchError, match="options: expected an AuditOptions"):
        bench.plan("readmission", methods=["erm"], seeds=[0], options={"n_bootstrap": 3})
