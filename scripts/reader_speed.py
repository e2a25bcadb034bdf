"""The reader's own time per question, on the passages the retriever gives it (12 by default).

Retrieval runs first for every question and is not timed; then each question's reading
(candidates, features, scores, decision and wording: ``Reader.answer``) is timed
``--rounds`` times, and the median of those rounds is that question's time. Prints the median
and p90 over the questions, and the mean number of candidates.

    .venv/bin/python scripts/reader_speed.py                                   # corpus/gold.jsonl
    .venv/bin/python scripts/reader_speed.py ../shared/piaf-dev/gold.jsonl --corpus ../shared/piaf-dev/corpus
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.conversation import standalone_question  # noqa: E402
from assistant.evaluation import load_gold  # noqa: E402
from assistant.models import Message  # noqa: E402
from assistant.questions import analyse  # noqa: E402
from assistant.reading import Reader  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", type=Path, nargs="?", default=ROOT / "corpus" / "gold.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("-k", type=int, default=12, help="passages per question")
    ap.add_argument("--rounds", type=int, default=1, help="reads per question (>1: repeated reads, warm caches)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        a = Assistant(settings=Settings.from_env(data_dir=Path(tmp)), auto_ingest=False)
        a.ingest([args.corpus])
        reader = Reader(a._idf, known=a._known, text_of=a._bulletin_text)
        work = []
        for item in load_gold(args.gold):
            q = standalone_question(item.question, [Message.model_validate(h) for h in item.history])
            work.append((q, analyse(q), a.retriever.retrieve(q, None, args.k)))
        for q, spec, passages in work[:5]:  # warm caches (stems, term matches) as a running server has
            reader.answer(spec, passages, question=q)
        times, counts = [], []
        for q, spec, passages in work:
            rounds = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                reader.answer(spec, passages, question=q)
                rounds.append((time.perf_counter() - t0) * 1000)
            times.append(statistics.median(rounds))
            counts.append(len(reader.candidates(spec, passages)))
        a.close()
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(
        f"{len(times)} questions, {args.k} passages each, {statistics.mean(counts):.0f} candidates on average: "
        f"reader median {statistics.median(times):.1f} ms, p90 {p90:.1f} ms, max {times[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
