"""Turn a pytest-benchmark JSON file into the README's benchmark table.

    pytest benchmarks/ --benchmark-only --benchmark-json=bench.json
    python tools/bench_table.py bench.json

For every group: each contender's median, ns/number when recorded, and its time relative to the
first nextdigit entry of the group (so "10.4x" means 10.4 times slower than nextdigit).
"""
import json
import sys
from collections import defaultdict


def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def main(path: str) -> None:
    data = json.load(open(path))
    groups = defaultdict(list)
    for b in data["benchmarks"]:
        groups[b["group"] or b["name"]].append(b)
    print("| group | contender | median | ns/number | time vs nextdigit |")
    print("|---|---|---|---|---|")
    for g in sorted(groups):
        rows = groups[g]
        ref = next((r for r in rows if "nextdigit" in r["name"]), rows[0])["stats"]["median"]
        for r in sorted(rows, key=lambda r: r["stats"]["median"]):
            name = r["name"].replace("test_", "", 1)
            med = r["stats"]["median"]
            npn = r.get("extra_info", {}).get("ns_per_number_median")
            npn_s = f"{npn:.0f}" if npn is not None else ""
            print(f"| {g} | {name} | {fmt_time(med)} | {npn_s} | {med / ref:.2f}x |")


if __name__ == "__main__":
    main(sys.argv[1])
