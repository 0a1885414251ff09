"""Do two demo ledgers tell the same story? ``ct.report.story_verdicts`` of each, and where they differ.

Run: ``.venv/bin/python benchmarks/story_compare.py REFERENCE.duckdb OTHER.duckdb [OTHER2.duckdb ...]``, e.g. the
ledgers of ``causaltrust demo --full -o F`` and ``causaltrust demo -o Q`` (each folder's ``results.duckdb``).
Prints, per other ledger, ``same story`` or each verdict that differs (objective, reference, other), then the
reference's verdicts. Exit 1 when any ledger differs.
"""

from __future__ import annotations

import argparse
import json
import sys

import causaltrust as ct


def differences(ref: dict[str, dict[str, object]], other: dict[str, dict[str, object]]) -> list[str]:
    """One line per (context, key) whose verdict differs between the two stories."""
    out = []
    for context in sorted(set(ref) | set(other)):
        a, b = ref.get(context, {}), other.get(context, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                out.append(f"[{context}] {key}: reference {a.get(key)} | other {b.get(key)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference")
    ap.add_argument("others", nargs="+")
    args = ap.parse_args()
    ref = ct.report.story_verdicts(ct.bench.Ledger.open(args.reference))
    differ = False
    for path in args.others:
        diff = differences(ref, ct.report.story_verdicts(ct.bench.Ledger.open(path)))
        differ |= bool(diff)
        print(f"{path}: " + ("same story" if not diff else f"{len(diff)} verdict(s) differ"))
        for line in diff:
            print("  " + line)
    print("reference story:", json.dumps(ref, indent=1, sort_keys=True))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
