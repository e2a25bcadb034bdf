"""Per sample PDF: pages, characters, tables, pages without text, seconds to parse and to ingest
(parse + chunk + embed + write into a fresh store), and one page side by side with ``pdftotext -layout``.

    .venv/bin/python scripts/pdf_ingest_report.py [../shared/pdf-samples] [--side-by-side FILE:PAGE]

Figures for issue 13's note and docs/pdf-libraries.md (2 cores, the default ONNX int8 model).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import Assistant
from assistant.loading import parse_bulletin
from assistant.settings import Settings

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "pdf-samples"


def side_by_side(path: Path, page: int, width: int = 70, lines: int = 40) -> str:
    """A page of our text (wrapped) next to ``pdftotext -layout`` of the same page."""
    import textwrap

    b = parse_bulletin(path.read_bytes(), path.name, fmt="pdf")
    ends = [*b.page_starts[1:], len(b.text)]
    ours = b.text[b.page_starts[page - 1] : ends[page - 1]]
    left = [w for para in ours.split("\n") for w in (textwrap.wrap(para, width) or [""])]
    if shutil.which("pdftotext") is None:
        return "pdftotext not installed (Debian: poppler-utils)"
    layout = subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    right = [line.rstrip()[:width] for line in layout if line.strip()]
    left += [""] * lines
    right += [""] * lines
    rows = [f"{left[i]:<{width}} │ {right[i]}" for i in range(lines)]
    head = f"{'this project (reading order)':<{width}} │ pdftotext -layout"
    return "\n".join([head, "─" * width + "─┼─" + "─" * width, *rows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=SAMPLES)
    ap.add_argument("--side-by-side", help="FILE:PAGE, e.g. 2020-02-11-drees-er1143-incapacites-retraite.pdf:1")
    args = ap.parse_args()
    files = sorted(args.folder.glob("*.pdf"))
    if not files:
        sys.exit(f"no PDF in {args.folder}")
    print("| sample | pages | characters | tables | pages without text | parse s | ingest s | chunks |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        a = Assistant(settings=Settings.from_env(data_dir=tmp), auto_ingest=False)
        a.embedder.encode_query("échauffement")  # model load is not part of an ingest
        for f in files:
            t0 = time.perf_counter()
            b = parse_bulletin(f.read_bytes(), f.name, fmt="pdf")
            parse_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = a.ingest([f])
            ingest_s = time.perf_counter() - t0
            info = report.bulletins[0]
            blank = ", ".join(map(str, b.blank_pages)) or "–"
            print(
                f"| {f.name} | {b.pages} | {len(b.text):,} | {b.tables} | {blank} | {parse_s:.2f} | {ingest_s:.2f}"
                f" | {info.chunks} |"
            )
        a.close()
    if args.side_by_side:
        name, _, page = args.side_by_side.rpartition(":")
        print("\n```text\n" + side_by_side(args.folder / name, int(page)) + "\n```")


if __name__ == "__main__":
    main()
