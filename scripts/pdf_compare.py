"""PDF text extraction libraries side by side on ../shared/pdf-samples (issue 13: choose by measurement).

For each library and sample: pages, characters, seconds, pages without text (image-only), tables
found (pdfplumber only), and reading order — how many sentences quoted from the samples' README
come out contiguous (whitespace ignored; a hyphen at a line end tried both kept and removed).
A sentence scrambled by columns, sidebars or headers is not found.

pdfplumber (with pdfminer.six and pypdfium2) is a project dependency, pypdf a test one (dev extra)::

    .venv/bin/python scripts/pdf_compare.py
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "pdf-samples"

#: Sentences quoted in the samples' README (from pdftotext, line breaks joined), by file prefix;
#: shared with tests/test_loading_pdf.py.
PROBES: dict[str, list[str]] = json.loads(
    (Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pdf-samples-probes.json").read_text()
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("’", "'").replace("\u00ad", ""))


def found(probe: str, text: str) -> bool:
    p = _squash(probe)
    return p in _squash(text) or p in _squash(re.sub(r"-\s*\n\s*", "", text))


def pypdfium2_pages(path: Path) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def pdfplumber_pages(path: Path) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [p.extract_text() or "" for p in pdf.pages]


def pdfminer_pages(path: Path) -> list[str]:
    from pdfminer.high_level import extract_text

    pages = extract_text(str(path)).split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages  # a form feed ends the last page


def pypdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(path).pages]


def pdfplumber_tables(path: Path) -> int:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return sum(len(p.find_tables()) for p in pdf.pages)


def project_pages(path: Path) -> list[str]:
    """This project's loader (assistant/loading/pdf.py): pdfminer layout + pdfplumber tables + cleanup."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from assistant.loading import parse_bulletin

    b = parse_bulletin(path.read_bytes(), f"pdf-samples/{path.name}", fmt="pdf")
    ends = [*b.page_starts[1:], len(b.text)]
    return [b.text[s:e] for s, e in zip(b.page_starts, ends, strict=True)]


ENGINES: dict[str, Callable[[Path], list[str]]] = {
    "pypdfium2": pypdfium2_pages,
    "pdfminer.six (layout analysis)": pdfminer_pages,
    "pdfplumber (extract_text)": pdfplumber_pages,
    "pypdf": pypdf_pages,
    "this project (pdfminer layout + pdfplumber tables + cleanup)": project_pages,
}


def main() -> None:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # "Ignoring wrong pointing object": noise here
    files = sorted(SAMPLES.glob("*.pdf"))
    if not files:
        sys.exit(f"no PDF in {SAMPLES}")
    print("| library | sample | pages | characters | pages without text | seconds | quoted sentences in order |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    totals: dict[str, list[float]] = {}
    for name, engine in ENGINES.items():
        for f in files:
            t0 = time.perf_counter()
            pages = engine(f)
            dt = time.perf_counter() - t0
            text = "\n".join(pages)
            probes = next((v for k, v in PROBES.items() if f.name.startswith(k)), [])
            hits = sum(found(p, text) for p in probes)
            empty = sum(1 for p in pages if len(p.strip()) < 20)
            tot = totals.setdefault(name, [0, 0, 0.0])
            tot[0] += hits
            tot[1] += len(probes)
            tot[2] += dt
            row = f"| {name} | {f.name[:32]} | {len(pages)} | {len(text):,} | {empty} | {dt:.2f}"
            print(f"{row} | {hits}/{len(probes)} |")
    print("\n| library | quoted sentences in order | seconds, 5 samples |\n| --- | ---: | ---: |")
    for name, (hits, n, dt) in totals.items():
        print(f"| {name} | {int(hits)}/{int(n)} | {dt:.1f} |")
    print("\n| sample | tables found by pdfplumber |\n| --- | ---: |")
    for f in files:
        print(f"| {f.name[:32]} | {pdfplumber_tables(f)} |")


if __name__ == "__main__":
    main()
