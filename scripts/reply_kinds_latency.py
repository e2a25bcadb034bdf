"""Answer latency per kind of reply (issue 14), warm, on the bundled corpus.

    .venv/bin/python scripts/reply_kinds_latency.py [--repeat 10]

One figure, two figures asked together, a bulletin's key figures (newest, by topic), a question for no
figure, a question not in French: the median of ``--repeat`` calls of :meth:`Assistant.ask` each.
"""

from __future__ import annotations

import argparse
import statistics
import time

from assistant import Assistant

QUESTIONS = {
    "figure": "Combien d'assurés ont activé Mon Espace Santé ?",
    "figures": "Combien de décès et d'hospitalisations l'épidémie de grippe a-t-elle causés ?",
    "key_figures (dernier bulletin)": "Quels sont les chiffres clés du dernier bulletin ?",
    "key_figures (sujet)": "Que dit le bulletin sur la télésanté ?",
    "not_a_figure": "Qu'est-ce que Mon Espace Santé ?",
    "not_french": "How many people activated Mon Espace Santé?",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with Assistant() as assistant:
        assistant.ask(QUESTIONS["figure"])  # model load, first ingest
        for label, question in QUESTIONS.items():
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                answer = assistant.ask(question)
                times.append((time.perf_counter() - t0) * 1000)
            print(f"{label:32} kind={answer.kind:13} median {statistics.median(times):6.0f} ms")


if __name__ == "__main__":
    main()
