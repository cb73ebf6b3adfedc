"""How much one training run tells: the same splits trained with several seeds, side by side.

Each training run of ``dev_quality.py`` is one draw: the appearance encoder starts from random weights
and sees its crops in a random order, and on 40 s of footage two seeds move a split's frame AUROC by up
to a few hundredths. A setting counts only when it moves a split by more than its seeds do. Train the
splits with ``--seed`` (``dev_quality.py`` passes it to training), each run's report in its own JSON:

    python benchmarks/dev_quality.py vtest-dev-f --num-workers 0 --skip-epochs0 --seed 7 --json s7_f.json
    python benchmarks/seed_spread.py s42_*.json s7_*.json s1_*.json

Per split it prints, over the runs given: frame AUROC centred and causal (each run, then the mean and
the spread), each anomaly's AUROC (lowest to highest) and in how many runs the default threshold found it
(the slowest find), the false-alarm events and normal frames in alarm per run, and per attribute the
median frame maximum the held-out footage predicted next to what the test video's normal frames showed
(live, after the scene baseline).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load_runs(paths: list[Path]) -> dict[str, list[tuple[str, dict]]]:
    """split name -> [(file name, its "trained" report)], in the order the files were given."""
    runs: dict[str, list[tuple[str, dict]]] = {}
    for path in paths:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SystemExit(f"{path}: not a report of dev_quality.py ({exc}); give the files its --json wrote.")
        for split, entry in report.items():
            if "trained" in entry:
                runs.setdefault(split, []).append((path.name, entry["trained"]))
    return runs


def spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    mean = sum(values) / len(values)
    return f"{mean:.3f} ({min(values):.3f}-{max(values):.3f})"


def split_lines(split: str, runs: list[tuple[str, dict]]) -> list[str]:
    lines = [f"{split}: {len(runs)} run(s): " + ", ".join(name for name, _ in runs)]
    for kind in ("centred", "causal"):
        values = [t[kind]["overall"] for _, t in runs]
        lines.append(f"  frame AUROC {kind:8s} {spread(values)}   each: " + " ".join(f"{v:.3f}" for v in values))
    names = [s["name"] for s in runs[0][1]["events"]["segments"]]
    for index, name in enumerate(names):
        aurocs = [t["centred"].get(name) for _, t in runs if name in t["centred"]]
        found = [t["events"]["segments"][index] for _, t in runs]
        delays = [f["delay_s"] for f in found if f["detected"]]
        when = f", slowest after {max(delays):.1f} s" if delays else ""
        auroc = f"{min(aurocs):.3f}-{max(aurocs):.3f}" if aurocs else "-"
        lines.append(f"  {name:22s} AUROC {auroc}; found at the default in {len(delays)} of {len(found)}{when}")
    events = " ".join(str(t["events"]["false_alarm_events"]) for _, t in runs)
    frames = " ".join(str(t["events"]["normal_frames_in_alarm"]) for _, t in runs)
    lines.append(f"  false-alarm events per run: {events}; normal frames in alarm per run: {frames}")
    predicted = [t.get("calibration", {}).get("scene_baseline") or {} for _, t in runs]
    shown = [t.get("normal_frames_attribute", {}) for _, t in runs]
    cells = []
    for attribute in shown[0]:
        pairs = [
            f"{p[attribute]:.2f}/{s[attribute]['raw']['median']:.2f}"
            for p, s in zip(predicted, shown)
            if attribute in p and attribute in s
        ]
        cells.append(f"{attribute} " + " ".join(pairs))
    if cells:
        lines.append("  median normal frame, held-out prediction/test: " + "; ".join(cells))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", type=Path, nargs="+", help="JSON files written by dev_quality.py --json")
    args = parser.parse_args(argv)
    runs = load_runs(args.reports)
    if not runs:
        print("none of these files holds a trained model's report", file=sys.stderr)
        return 1
    for split in sorted(runs):
        print("\n".join(split_lines(split, runs[split])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
