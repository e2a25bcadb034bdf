"""The reader's coverage/accuracy curve and feature ablation, from the same data as ``assistant train-reader``.

* ``bench/reader-coverage.png``: for each data set, the share of questions answered against the
  accuracy of the answers as the abstention threshold moves (out-of-fold confidences), with the
  shipped threshold marked;
* the ablation: each signal (and each group of one-hot crosses) is left out in turn, the grouped
  cross-validation is run again (threshold re-chosen), and what is lost on PIAF open retrieval
  (top-1 of the answering decision, accuracy) and on the gold set is printed, largest loss first
  (``--top``), as a markdown table.

    .venv/bin/python scripts/reader_report.py                  # ~2 min of data, ~10 min of ablation
    .venv/bin/python scripts/reader_report.py --no-ablation
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.reading import train  # noqa: E402
from assistant.reading.features import FEATURES  # noqa: E402
from assistant.reading.reader import Reader  # noqa: E402

SETS = {
    "piaf": "PIAF, open retrieval",
    "gold": "corpus/gold.jsonl",
    "piaf-without-paragraph": "PIAF without its paragraph",
}


def curve(cv: train.CrossValidation, dataset: str) -> list[tuple[float, float, float]]:
    """(threshold, answered share, accuracy of answers) over every threshold that changes something."""
    ds = [d for d in cv.decisions if d.example.dataset == dataset]
    out = []
    for t in sorted({round(d.confidence, 4) for d in ds} | {0.0, 1.01}):
        answered = [d for d in ds if d.answered(t)]
        if answered:
            out.append((t, len(answered) / len(ds), sum(d.right for d in answered) / len(answered)))
    return out


def plot(cv: train.CrossValidation, threshold: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for name, label in SETS.items():
        pts = curve(cv, name)
        ax.plot([p[1] for p in pts], [p[2] for p in pts], label=label)
        chosen = min(pts, key=lambda p: abs(p[0] - threshold))
        ax.scatter([chosen[1]], [chosen[2]], zorder=3)
        ax.annotate(f"{chosen[1]:.0%} / {chosen[2]:.0%}", (chosen[1], chosen[2]), textcoords="offset points",
                    xytext=(5, -12), fontsize=8)  # fmt: skip
    ax.set_xlabel("share of questions answered")
    ax.set_ylabel("accuracy of the answers given")
    ax.set_title(f"Reader: coverage vs accuracy (out-of-fold), shipped threshold {threshold:.3f} (dots)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


#: Families of signals that measure one thing several ways (left out together: alone, each is
#: mostly replaced by its siblings).
FAMILIES = {
    "family: term coverage": ("coverage", "context_coverage", "window_coverage", "low_coverage"),
    "family: former reader": ("former_score", "former_gated", "former_choice"),
    "family: counted noun": ("noun_hit", "asks_noun", "noun_missing", "has_noun"),
    "family: period": ("period_hit", "asks_period", "window_period_hit", "period_missing"),
    "family: retrieval": ("inverse_rank", "fused_score", "dense", "bm25", "top_bulletin"),
    "family: position in the sentence": (
        "proximity", "closest_figure", "first_rival", "terms_around", "terms_before", "terms_after",
        "figures_in_sentence", "rivals_in_sentence",
    ),
    "family: dates": ("year", "full_date", "year_cue_year", "date_cue_full_date", "date_cue_fit"),
    "family: recency": ("recency", "latest_recency", "recency_no_period", "column_rank"),
}  # fmt: skip


def groups(families: bool = True) -> dict[str, list[int]]:
    """Signals one by one, the families above, and the one-hot kind features and cue crosses as groups."""
    out: dict[str, list[int]] = {}
    if families:
        for name, members in FAMILIES.items():
            out[name] = [FEATURES.index(m) for m in members]
    for i, name in enumerate(FEATURES):
        if name.startswith("cue_"):
            out.setdefault("answer-type cues x figure kind", []).append(i)
        elif "_x_" in name:
            out.setdefault("question kind x figure kind", []).append(i)
        elif name.startswith(("asks_", "is_")) and name not in ("asks_noun", "asks_period"):
            out.setdefault("question kind, figure kind (one-hot)", []).append(i)
        else:
            out[name] = [i]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "reader-coverage.png")
    ap.add_argument("--no-ablation", action="store_true")
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()

    result = train.train(progress=lambda m: print(m, file=sys.stderr))
    plot(result.cv, result.model.threshold, args.out)
    print(f"Curve: {args.out}")
    for name in SETS:
        s = result.cv.score(name)
        print(f"{name}: accuracy {s['accuracy']:.1%}, abstained {s['abstained']:.1%}, wrong {s['wrong']:.1%}")
    if args.no_ablation:
        return
    reader = Reader(model=train._neutral_model())

    def measures(cv: train.CrossValidation) -> tuple[float, float, float]:
        piaf, gold = cv.score("piaf"), cv.score("gold")
        return piaf["top1_if_answering"], piaf["accuracy"], gold["accuracy"]

    base = measures(result.cv)
    rows = []
    for name, cols in groups().items():
        keep = [i for i in range(len(FEATURES)) if i not in cols]
        got = measures(train.cross_validate(result.data, reader, columns=keep))
        rows.append((name, len(cols), *(b - g for b, g in zip(base, got, strict=True))))
    rows.sort(key=lambda r: (-(r[2] + r[3] + r[4]), r[0]))
    print(
        "\n| left out | features | PIAF top-1 lost | PIAF accuracy lost | gold accuracy lost |"
        "\n| --- | ---: | ---: | ---: | ---: |"
    )
    for name, n, d1, dp, dg in rows[: args.top]:
        print(f"| `{name}` | {n} | {d1 * 100:+.1f} pts | {dp * 100:+.1f} pts | {dg * 100:+.1f} pts |")


if __name__ == "__main__":
    main()
