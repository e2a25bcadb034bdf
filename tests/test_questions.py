"""Question analysis: what narrows a question (its qualifiers)."""

from __future__ import annotations

from assistant.questions import analyse


def test_proper_nouns_narrow_the_question() -> None:
    """A place or a body named with capitals must be in the answer's sentence or context, like a
    « chez les … » (measured: PDF gold 75.0 -> 78.1 %, gold 96.5 -> 95.7 %, PIAF 47.1 % unchanged)."""
    spec = analyse("Combien de cas en région Grand Est selon Santé publique France ?")
    assert {"grand", "franc"} <= set(spec.qualifiers)
    assert {"loir", "atlant"} <= set(analyse("Combien de cas confirmés en Loire-Atlantique ?").qualifiers)
    # the first word, short words and the counted noun are not names
    spec = analyse("Combien de Cas en Bretagne ?")
    assert "combien" not in spec.qualifiers and "cas" not in spec.qualifiers
    assert "bretagn" in spec.qualifiers
