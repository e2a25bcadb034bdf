"""Follow-up questions: complete an elliptical question from the conversation.

Rules, no model. After "Combien de professionnels de santé libéraux alimentent le DMP ?":

* "Et en 2024 ?" keeps the indicator and changes the period;
* "Et les établissements ?" keeps the period and topic and changes the thing counted;
* "Et le délai médian ?" asks for another figure on the same topic;
* a full question ("Quel est le budget du Ségur ?") starts a new topic, untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexical import STOPWORDS, fold
from .models import Message
from .questions import QUESTION_WORDS, analyse

_ELLIPTIC_START = re.compile(r"^\s*(?:et|pour|en|au|à|a|fin|dans|chez|côté|cote|concernant|quid|mais)\b", re.I)
_LEADING = re.compile(r"^\s*(?:et|mais|quid)\s+(?:pour|concernant|côté|cote|de)?\s*", re.I)
_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
_PERIOD_EXPR = re.compile(
    r"\s*,?\s*\b(?:en|au|à|a|fin|début|debut|mi-?|depuis|pour|d['’]ici(?:\s+(?:la\s+)?fin)?)?\s*(?:l['’]année\s+)?"
    rf"(?:(?:1er|\d{{1,2}})\s+)?(?:{_MONTHS})?\s*\b(?:19|20)\d\d\b",
    re.I,
)
_DETERMINER = re.compile(r"^\s*(?:des|les|le|la|l['’]|du|de|d['’])\s*", re.I)
# Where the counted thing's noun phrase ends in a question: a verb or a preposition.
_NP_END = frozenset(
    [
        "ont",
        "sont",
        "a",
        "est",
        "avaient",
        "etaient",
        "avait",
        "etait",
        "se",
        "s",
        "en",
        "dans",
        "par",
        "pour",
        "chaque",
        "via",
        "au",
        "aux",
        "sur",
        "qui",
        "que",
        "ayant",
        "selon",
        "depuis",
        "entre",
        "avec",
    ]
)


def last_user_question(history: Sequence[Message]) -> str | None:
    for msg in reversed(history):
        if msg.role == "user" and msg.content.strip():
            return msg.content.strip()
    return None


def is_elliptical(question: str) -> bool:
    """Too short or too dependent ("Et …") to stand alone."""
    q = question.strip()
    n_words = len(re.findall(r"\w+", q))
    return (bool(_ELLIPTIC_START.match(q)) and n_words <= 9) or (n_words <= 3 and not analyse(q).kinds)


def standalone_question(question: str, history: Sequence[Message]) -> str:
    """The question made self-contained using the previous user questions."""
    previous = last_user_question(history)
    if not previous or not is_elliptical(question):
        return question.strip()
    # The previous question may itself have been a follow-up: rebuild it first.
    idx = max(i for i, m in enumerate(history) if m.role == "user" and m.content.strip() == previous)
    previous = standalone_question(previous, history[:idx])
    base = previous.strip().rstrip(" ?").strip()
    new = _LEADING.sub("", question.strip().rstrip(" ?").strip())
    new_spec = analyse(new)

    if new_spec.periods and not _content_words(_PERIOD_EXPR.sub(" ", new)):
        return _with_period(base, new, new_spec.periods[0].label())
    if new_spec.kinds:
        # "Et le délai médian ?": another figure. Keep the topic unless the fragment brings its own.
        if re.match(r"^\s*(?:combien|quel|quelle|quels|quelles|quand)\b", new, re.I):
            head = new
        else:
            article = "Quelle" if _FEMININE.match(new) else "Quel"
            head = f"{article} est {new}"
        own = _content_words(new) - _KIND_WORDS
        if own and not own & _content_words(base):
            return f"{head} ?"
        return f"{head} — {_topic(base)} ?"
    if _PREPOSITION.match(new):
        place = _PLACE.fullmatch(new)
        earlier = list(_PLACE.finditer(base)) if place else []
        if earlier:  # "Et en Meurthe-et-Moselle ?" after "… dans le Bas-Rhin …": another place, same question
            m = earlier[-1]
            return f"{base[: m.start()]}{new}{base[m.end() :]} ?"
        return f"{base} {new} ?"  # "Et dans les pharmacies ?": narrows the same question
    swapped = _swap_noun(base, new)
    if swapped:
        return swapped
    return f"{base} — {new} ?"


_PREPOSITION = re.compile(r"^(?:dans|chez|en|au|aux|à|a|pour|sur|hors|parmi)\b", re.I)
#: A place named by a proper noun: « dans le Bas-Rhin », « en Meurthe-et-Moselle », « à La Réunion ».
_PLACE = re.compile(
    r"\b(?:dans|en|au|aux|à)\s+(?:(?:la|le|les)\s+|l['’])?"
    r"[A-ZÀÂÉÈÎÔ][\w’'-]*(?:\s+(?:de\s+la\s+|de\s+|du\s+|des\s+)?[A-ZÀÂÉÈÎÔ][\w’'-]*)*"
)
_FEMININE = re.compile(r"^(?:la|une)\b", re.I)
_KIND_WORDS = frozenset(
    [
        "delai",
        "duree",
        "temps",
        "budget",
        "cout",
        "part",
        "taux",
        "pourcentage",
        "proportion",
        "montant",
        "nombre",
        "moyen",
        "moyenne",
        "median",
        "mediane",
    ]
)


def _content_words(text: str) -> set[str]:
    return {
        w
        for w in re.findall(r"[a-z0-9]+", fold(text).replace("'", " "))
        if w not in STOPWORDS and w not in QUESTION_WORDS and len(w) > 2 and not w.isdigit()
    }


def _with_period(base: str, new: str, label: str) -> str:
    stripped = _PERIOD_EXPR.sub("", base).strip(" ,")
    period = _PERIOD_EXPR.search(new)
    expr = period.group(0).strip(" ,") if period else label
    if not re.match(r"^(?:en|au|à|a|fin|début|debut|mi|depuis|pour|d['’]ici)\b", expr, re.I):
        expr = f"en {expr}"
    return f"{stripped} {expr} ?"


def _topic(base: str) -> str:
    """The previous question without its interrogative head ("Combien de temps attend-on …")."""
    return re.sub(
        r"^\s*(?:combien(?:\s+de\s+temps|\s+de|\s+d['’])?|quel(?:le)?s?\s+(?:est|sont)\s+\w+)\s*", "", base, flags=re.I
    )


def _swap_noun(base: str, new: str) -> str | None:
    """Replace the counted thing of the previous question by the fragment's noun phrase."""
    phrase = _DETERMINER.sub("", new).strip()
    if not phrase:
        return None
    prev_noun = analyse(base).noun_word
    if not prev_noun:
        return None
    for m in re.finditer(r"\b(de\s+|d['’]|des\s+)([^\W\d_][\w\-]*)", base, re.I):
        if fold(m.group(2)) != prev_noun:
            continue
        end = m.end()
        # The old noun phrase runs on to the next verb or preposition ("de santé libéraux").
        for w in re.finditer(r"\s+([\w’'\-]+)", base[end:]):
            word = fold(w.group(1)).replace("’", "'")
            if word in _NP_END or word.endswith("ent") or not word.isalpha():
                break
            end = m.end() + w.end()
        prep = "d’" if phrase[:1].lower() in "aeiouyéèêàh" else "de "
        return f"{base[: m.start()]}{prep}{phrase}{base[end:]} ?"
    return None
