"""French lexical search (BM25) kept beside the Chroma store.

Local Chroma has no sparse index, so BM25 lives here: tokens are lower-cased,
accent-folded, stop words dropped and stemmed with the Snowball French stemmer
(PyStemmer); scoring is done by ``bm25s``. The index is rebuilt from Chroma
whenever the store's version stamp changes, so it is always consistent with
the store, even when another process wrote to it.
"""

from __future__ import annotations

import bisect
import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import bm25s
import numpy as np
import Stemmer

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

# French function words (accent-folded) that carry no topic.
STOPWORDS = frozenset(
    [
        "a",
        "afin",
        "ai",
        "aie",
        "aient",
        "ainsi",
        "alors",
        "apres",
        "au",
        "aucun",
        "aucune",
        "aupres",
        "auquel",
        "aussi",
        "autre",
        "autres",
        "aux",
        "auxquels",
        "avaient",
        "avais",
        "avait",
        "avant",
        "avec",
        "avoir",
        "ayant",
        "c",
        "ca",
        "car",
        "ce",
        "ceci",
        "cela",
        "celle",
        "celles",
        "celui",
        "cependant",
        "ces",
        "cet",
        "cette",
        "ceux",
        "chaque",
        "chez",
        "ci",
        "comme",
        "comment",
        "contre",
        "d",
        "dans",
        "de",
        "dela",
        "depuis",
        "des",
        "desquels",
        "dont",
        "du",
        "duquel",
        "elle",
        "elles",
        "en",
        "encore",
        "entre",
        "es",
        "est",
        "et",
        "etaient",
        "etait",
        "etant",
        "ete",
        "etre",
        "eu",
        "eux",
        "fait",
        "font",
        "hors",
        "il",
        "ils",
        "j",
        "je",
        "jusqu",
        "jusque",
        "l",
        "la",
        "laquelle",
        "le",
        "lequel",
        "les",
        "lesquelles",
        "lesquels",
        "leur",
        "leurs",
        "lors",
        "lui",
        "m",
        "ma",
        "mais",
        "me",
        "meme",
        "memes",
        "mes",
        "moi",
        "mon",
        "n",
        "ne",
        "ni",
        "non",
        "nos",
        "notre",
        "nous",
        "on",
        "ont",
        "ou",
        "par",
        "parmi",
        "pas",
        "pendant",
        "peu",
        "peut",
        "plus",
        "pour",
        "pourquoi",
        "pres",
        "puis",
        "qu",
        "quand",
        "que",
        "quel",
        "quelle",
        "quelles",
        "quels",
        "qui",
        "quoi",
        "s",
        "sa",
        "sans",
        "se",
        "selon",
        "ser",
        "sera",
        "seront",
        "ses",
        "si",
        "sien",
        "soit",
        "son",
        "sont",
        "sous",
        "suis",
        "sur",
        "t",
        "ta",
        "tandis",
        "te",
        "tes",
        "toi",
        "ton",
        "tous",
        "tout",
        "toute",
        "toutes",
        "tres",
        "tu",
        "un",
        "une",
        "unes",
        "uns",
        "vers",
        "via",
        "vos",
        "votre",
        "vous",
        "y",
        "combien",
        "ete",
        "etes",
        "sont",
        "sera",
        "aura",
        "avez",
    ]
)

_WORD_RE = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=32768)
def fold(text: str) -> str:
    """Lower-case and strip accents ("Établissements" -> "etablissements").

    Cached: the reader folds the same sentences of the same bulletins question after question.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("œ", "oe").replace("æ", "ae")


_stemmer_local = threading.local()


def _stemmer() -> Any:
    # PyStemmer objects are not thread-safe: one per thread.
    st = getattr(_stemmer_local, "stemmer", None)
    if st is None:
        st = _stemmer_local.stemmer = Stemmer.Stemmer("french")
    return st


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Stem of one folded word (cached: bulletins repeat their vocabulary)."""
    return str(_stemmer().stemWord(word))


def words(text: str) -> list[str]:
    """Folded word tokens, stop words included (digits kept)."""
    return _WORD_RE.findall(fold(text))


def tokenize(text: str) -> list[str]:
    """Folded, stop-word-free, stemmed tokens: the BM25 vocabulary."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


@dataclass
class LexicalIndex:
    """BM25 over chunk texts, with document frequencies for term weighting."""

    ids: list[str] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    stamp: str = ""
    _bm25: Any = None
    _df: Counter[str] = field(default_factory=Counter)
    _vocab: list[str] | None = None
    _rows: dict[str, int] | None = None

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, dict[str, Any]]], stamp: str = "") -> LexicalIndex:
        index = cls(stamp=stamp)
        corpus: list[list[str]] = []
        for cid, text, meta in rows:
            index.ids.append(cid)
            index.metas.append(meta)
            index.texts.append(text)
            tokens = tokenize(f"{meta.get('title', '')}\n{text}")
            corpus.append(tokens)
            index._df.update(set(tokens))
        if corpus:
            index._bm25 = bm25s.BM25(k1=1.2, b=0.75)
            index._bm25.index(_as_bm25s(corpus), show_progress=False)
        return index

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, chunk_id: str) -> int | None:
        """Row of a chunk id (None if the index does not hold it)."""
        if self._rows is None:
            self._rows = {cid: i for i, cid in enumerate(self.ids)}
        return self._rows.get(chunk_id)

    def idf(self, token: str) -> float:
        """Smoothed inverse document frequency of a stemmed token."""
        n = max(1, len(self.ids))
        return math.log(1.0 + (n - self._df.get(token, 0) + 0.5) / (self._df.get(token, 0) + 0.5))

    def knows(self, token: str) -> bool:
        """Is a stemmed term (or a synonym, or a word sharing its stem's prefix) used in the corpus?"""
        if token in self._df or any(canon(t) == canon(token) for t in _SYN_STEMS.get(canon(token), ())):
            return True
        if len(token) < 4:
            return False
        if any(token[:n] in self._df for n in range(4, len(token))):
            return True
        vocab = self._sorted_vocab()
        i = bisect.bisect_left(vocab, token)
        return i < len(vocab) and vocab[i].startswith(token)

    def _sorted_vocab(self) -> list[str]:
        if self._vocab is None:
            self._vocab = sorted(self._df)
        return self._vocab

    def scores(self, query: str, allowed: Sequence[bool] | None = None) -> np.ndarray:
        """BM25 score of every row for ``query`` (0 where ``allowed`` masks a row out, or no term matches)."""
        tokens = [t for t in tokenize(query) if t in self._df]
        if not tokens or self._bm25 is None:
            return np.zeros(len(self.ids), dtype=np.float32)
        vocab = self._bm25.vocab_dict
        weights = np.asarray(allowed, dtype=np.float32) if allowed is not None else None
        return np.asarray(self._bm25.get_scores([vocab[t] for t in tokens], weight_mask=weights), dtype=np.float32)

    def search(self, query: str, k: int, allowed: Sequence[bool] | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (row, score) for ``query``, best first, scores > 0; ``allowed`` masks rows (filters)."""
        return top_rows(self.scores(query, allowed), k)


def top_rows(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, score) of a score array, best first (ties by row), positive scores only."""
    k = min(k, len(scores))
    if k <= 0:
        return []
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = part[np.lexsort((part, -scores[part]))]
    return [(int(r), float(scores[r])) for r in order if scores[r] > 0]


def _as_bm25s(corpus: list[list[str]], vocab: dict[str, int] | None = None) -> Any:
    """Our own tokens in bm25s' ``Tokenized`` form (ids + vocabulary)."""
    if vocab is None:
        vocab = {}
        for doc in corpus:
            for tok in doc:
                vocab.setdefault(tok, len(vocab))
        if "" not in vocab:
            vocab[""] = len(vocab)  # bm25s expects an empty token for padding
    ids = [[vocab[t] for t in doc if t in vocab] for doc in corpus]
    return bm25s.tokenization.Tokenized(ids=ids, vocab=vocab)


# Words that bulletins and questions use for the same thing. Matching, not
# retrieval: a question saying "officines" is covered by a sentence saying
# "pharmacies". Kept short and generic to French health writing.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("pharmacie", "officine", "pharmacien"),
    ("ordonnance", "prescription"),
    ("hopital", "etablissement", "clinique"),
    ("medecin", "praticien", "docteur", "generaliste"),
    ("patient", "malade", "patiente"),
    ("utilisateur", "usager"),
    ("deposer", "verser", "alimenter", "envoyer", "transmettre", "transiter", "adresser"),
    ("recevoir", "recu", "recus", "recue", "recoit", "recoivent", "beneficier"),
    ("delai", "attente", "temps", "duree"),
    ("budget", "enveloppe", "financement", "dote", "dotation", "credit", "montant"),
    ("hausse", "augmentation", "progression", "croissance", "augmenter", "progresser", "croitre", "gain", "gagner"),
    ("baisse", "recul", "diminution", "reculer", "diminuer"),
    ("vaccin", "vaccination", "vacciner", "vaccine", "injection"),
    ("depistage", "depister"),
    ("grippe", "antigrippal", "grippal"),
    ("deuxieme", "seconde", "second"),
    ("premier", "premiere"),
    ("teleconsultation", "consultation"),
    ("carnet", "profil"),
    ("activer", "active", "ouvrir", "ouvert"),
    ("notification", "alerte"),
    ("cout", "couter", "depense", "depenser", "rembourser", "remboursement", "rembourse"),
    ("part", "proportion", "pourcentage", "taux", "pourcent"),
    ("annee", "an"),
    ("douze", "12"),
    ("mensuel", "mois"),
)
_CANON: dict[str, str] = {}
for _group in SYNONYMS:
    for _w in _group:
        _CANON.setdefault(stem(_w), stem(_group[0]))


_SYN_STEMS: dict[str, tuple[str, ...]] = {}
for _group in SYNONYMS:
    _stems = tuple(stem(w) for w in _group)
    for _s in _stems:
        _SYN_STEMS[_CANON[_s]] = tuple(dict.fromkeys(_SYN_STEMS.get(_CANON[_s], ()) + _stems))


_CANON_PREFIX: dict[str, str] = {}
for _s, _c in list(_CANON.items()):
    if len(_s) >= 5:
        _CANON_PREFIX.setdefault(_s[:5], _c)


def canon(token: str) -> str:
    """A stemmed token mapped onto its synonym group's representative.

    Verb forms stem unevenly ("envoyées" / "envoyer"), so a 5-letter prefix also maps.
    """
    found = _CANON.get(token)
    if found is None and len(token) >= 5:
        found = _CANON_PREFIX.get(token[:5])
    return found or token


def token_match(q: str, tokens: Iterable[str]) -> bool:
    """Does stemmed question term ``q`` occur among ``tokens`` (synonyms and shared prefixes count)?"""
    return any(tokens_match(q, t) for t in tokens)


class TokenIndex:
    """A set of stemmed tokens, indexed so that :func:`token_match` against it is a few set lookups.

    Same answer as ``token_match(q, tokens)`` for every ``q``: equal or synonym (``canon``), one
    a prefix of the other (both ≥ 4 letters), or the same first 5 letters (both ≥ 5). A prefix
    relation between two words of ≥ 5 letters implies the same first 5 letters, so what remains
    are 4-letter prefixes and 4-letter tokens.
    """

    __slots__ = ("_canon", "_four", "_prefix4", "_prefix5", "_tokens")

    def __init__(self, tokens: Iterable[str]) -> None:
        self._tokens = set(tokens)
        self._canon = {canon(t) for t in self._tokens}
        self._prefix5 = {t[:5] for t in self._tokens if len(t) >= 5}
        self._prefix4 = {t[:4] for t in self._tokens if len(t) >= 4}
        self._four = {t for t in self._tokens if len(t) == 4}

    def holds(self, q: str) -> bool:
        if q in self._tokens or canon(q) in self._canon:
            return True
        n = len(q)
        if n >= 5 and q[:5] in self._prefix5:
            return True
        return (n == 4 and q in self._prefix4) or (n >= 4 and q[:4] in self._four)


@lru_cache(maxsize=262144)
def tokens_match(q: str, t: str) -> bool:
    """``token_match`` for one token. Cached: the reader asks about the same (term, token) pairs
    for every passage it scores."""
    if t == q or canon(t) == canon(q):
        return True
    if len(q) >= 4 and len(t) >= 4 and (t.startswith(q) or q.startswith(t)):
        return True
    return len(q) >= 5 and len(t) >= 5 and q[:5] == t[:5]
