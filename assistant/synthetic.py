"""Synthetic French bulletins for benchmarks: reproducible from a seed, with real figures.

The benchmark needs corpora far larger than ``corpus/`` (up to a million chunks) whose
text looks like the real thing to every stage: French sentences with figures the
figure parser reads ("12 450 patients", "42,5 %", "3,5 millions d’euros", "18 jours"),
topics, regions and dates the BM25 index and the date filters see. Bulletin ``i`` of
seed ``s`` is always the same text, whatever else is generated, so any size can be
rebuilt or extended identically.

Encoding every chunk with the model costs the same per chunk at any size, and is
measured on its own; past a few thousand chunks the benchmark stores *pool vectors*
(:class:`PoolVectors`) instead: the embeddings of a small pool of sentence skeletons
(topic x template, and regions), summed per chunk, plus seeded noise, normalised. They
are cheap, reproducible, and keep the topical neighbourhoods of real embeddings.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np

from .chunking import chunk_id, embed_text
from .models import Bulletin, Chunk

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

# Regions as written after a verb ("en Bretagne", "à La Réunion"): the phrase is used as is.
REGIONS = (
    "en Bretagne", "en Normandie", "en Occitanie", "dans le Grand Est", "dans les Hauts-de-France",
    "en Île-de-France", "en Nouvelle-Aquitaine", "en Auvergne-Rhône-Alpes", "en Bourgogne-Franche-Comté",
    "en Centre-Val de Loire", "dans les Pays de la Loire", "en Corse", "en Provence-Alpes-Côte d’Azur",
    "en Guadeloupe", "en Martinique", "à La Réunion", "en Guyane", "à Mayotte",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Topic:
    """One theme of health bulletins and the phrases its sentences are built from."""

    theme: str  # title: "Téléconsultations"
    noun: str  # counted noun: "patients"
    done: str  # after "ont": "bénéficié d’une téléconsultation"
    share: str  # after "la part des": "consultations réalisées à distance"
    programme: str  # after "consacrée": "au déploiement des cabines de téléconsultation"
    wait: str  # after "le délai médian pour": "obtenir une téléconsultation"


TOPICS = (
    Topic("Téléconsultations", "patients", "bénéficié d’une téléconsultation", "consultations réalisées à distance",
          "au déploiement des cabines de téléconsultation", "obtenir une téléconsultation"),
    Topic("Vaccination antigrippale", "personnes âgées", "reçu leur vaccin contre la grippe",
          "soignants vaccinés contre la grippe", "au financement de la campagne de vaccination",
          "obtenir un rendez-vous de vaccination"),
    Topic("Urgences hospitalières", "patients", "été pris en charge aux urgences",
          "passages suivis d’une hospitalisation", "au renfort des équipes d’urgence", "voir un médecin aux urgences"),
    Topic("Dépistage du cancer colorectal", "assurés", "réalisé un test de dépistage", "personnes dépistées",
          "au programme de dépistage organisé", "recevoir le résultat du test"),
    Topic("Mon Espace Santé", "assurés", "activé leur profil Mon Espace Santé", "profils consultés chaque mois",
          "au développement de Mon Espace Santé", "ouvrir un profil"),
    Topic("Dossier médical partagé", "documents", "été déposés dans le DMP", "comptes rendus versés au DMP",
          "au raccordement des logiciels au DMP", "recevoir un compte rendu"),
    Topic("Pharmacies d’officine", "pharmacies", "consulté le DMP de leurs patients", "officines raccordées",
          "à l’équipement numérique des pharmacies", "obtenir un médicament en rupture"),
    Topic("Santé mentale", "patients", "été suivis par un psychologue", "séances remboursées",
          "au dispositif de soutien psychologique", "obtenir un premier rendez-vous en psychiatrie"),
    Topic("E-prescription", "ordonnances", "été émises sous forme numérique", "prescriptions dématérialisées",
          "à la généralisation de l’ordonnance numérique", "faire délivrer une ordonnance"),
    Topic("Maisons de santé", "professionnels", "rejoint une maison de santé pluriprofessionnelle",
          "médecins exerçant en groupe", "à l’ouverture de maisons de santé",
          "obtenir un rendez-vous chez un généraliste"),
    Topic("Soins à domicile", "patients", "été hospitalisés à domicile", "séjours réalisés à domicile",
          "à l’hospitalisation à domicile", "démarrer une prise en charge à domicile"),
    Topic("Prévention bucco-dentaire", "enfants", "bénéficié d’un examen bucco-dentaire", "enfants examinés",
          "au programme de prévention bucco-dentaire", "obtenir un rendez-vous chez le dentiste"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Fact:
    """A sentence of a synthetic bulletin and the figure it states (what a question would ask)."""

    sentence: str
    figure: str  # verbatim, e.g. "3,5 millions d’euros"
    value: float
    unit: str | None
    kind: str  # count, percent, money, duration
    topic: int
    template: int
    region: int
    question: str  # a French question this sentence answers


@dataclass(frozen=True, slots=True)
class SyntheticBulletin:
    """A generated bulletin, cut into paragraph chunks (offsets into ``bulletin.text``)."""

    bulletin: Bulletin
    chunks: list[Chunk]
    facts: list[list[Fact]]  # per chunk
    file_name: str
    index: int  # bulletin number within its generator

    def embed_texts(self) -> list[str]:
        return [embed_text(self.bulletin.title, c.text) for c in self.chunks]


# -- figures spelled the French way --------------------------------------------


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _decimal(x: float, digits: int = 1) -> str:
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _count(rng: random.Random) -> tuple[str, float]:
    if rng.random() < 0.3:
        tenths = rng.randint(11, 99)  # 1,1 .. 9,9 millions
        text = _decimal(tenths / 10)
        return f"{text} millions", tenths / 10 * 1e6
    n = rng.randint(120, 980_000)
    return _thousands(n), float(n)


def _percent(rng: random.Random) -> tuple[str, float]:
    tenths = rng.randint(10, 950)
    return f"{_decimal(tenths / 10)} %", tenths / 10


def _money(rng: random.Random) -> tuple[str, float]:
    if rng.random() < 0.2:
        hundredths = rng.randint(101, 350)
        scale = "milliard" if hundredths < 200 else "milliards"
        return f"{_decimal(hundredths / 100, 2)} {scale} d’euros", hundredths / 100 * 1e9
    tenths = rng.randint(12, 990)
    return f"{_decimal(tenths / 10)} millions d’euros", tenths / 10 * 1e6


def _duration(rng: random.Random) -> tuple[str, float, str]:
    if rng.random() < 0.5:
        n = rng.randint(2, 90)
        return f"{n} jours", float(n), "jours"
    n = rng.randint(12, 55)
    return f"{n} minutes", float(n), "min"


# -- sentences -------------------------------------------------------------------
# Each template is (kind, sentence builder); the builder gets the topic, a region,
# a period and the rng, and returns (sentence, figure text, value, unit, question).

Built = tuple[str, str, float, str | None, str]


def _de(noun: str) -> str:
    """ "de patients", "d’ordonnances"."""
    return f"d’{noun}" if noun[:1] in "aeéiouh" else f"de {noun}"


def _t_count(t: Topic, region: str, period: str, rng: random.Random) -> Built:
    fig, value = _count(rng)
    sentence = f"En {period}, {fig} {t.noun} ont {t.done} {region}."
    return sentence, fig, value, t.noun, f"Combien {_de(t.noun)} ont {t.done} {region} en {period} ?"


def _t_count_total(t: Topic, region: str, period: str, rng: random.Random) -> Built:
    fig, value = _count(rng)
    sentence = f"Selon le bilan de {period}, le nombre {_de(t.noun)} ayant {t.done} atteint {fig} {region}."
    return sentence, fig, value, t.noun, f"Quel est le nombre {_de(t.noun)} ayant {t.done} {region} ?"


def _t_percent(t: Topic, region: str, period: str, rng: random.Random) -> Built:
    fig, value = _percent(rng)
    before, _ = _percent(rng)
    sentence = f"La part des {t.share} s’établit à {fig} {region}, contre {before} un an plus tôt."
    return sentence, fig, value, "%", f"Quelle est la part des {t.share} {region} ?"


def _t_growth(t: Topic, region: str, period: str, rng: random.Random) -> Built:
    fig, value = _percent(rng)
    sentence = f"Sur un an, l’activité liée au thème « {t.theme.lower()} » progresse de {fig} {region}."
    return sentence, fig, value, "%", f"De combien progresse l’activité {t.theme.lower()} {region} sur un an ?"


def _t_money(t: Topic, region: str, period: str, rng: random.Random) -> Built:
    fig, value = _money(rng)
    sentence = f"Une enveloppe de {fig} est consacrée {t.programme} {region} pour l’année."
    return sentence, fig, value, "EUR", f"Quel budget est consacré {t.programme} {region} ?"


def _t_duration(t: Topic, region: str, period: str, rng: random.Random) -> Built:
    fig, value, unit = _duration(rng)
    sentence = f"Le délai médian pour {t.wait} est de {fig} {region} en {period}."
    return sentence, fig, value, unit, f"Quel est le délai médian pour {t.wait} {region} ?"


class _Template(Protocol):
    def __call__(self, t: Topic, region: str, period: str, rng: random.Random) -> Built: ...


TEMPLATES: tuple[tuple[str, _Template], ...] = (
    ("count", _t_count),
    ("count", _t_count_total),
    ("percent", _t_percent),
    ("percent", _t_growth),
    ("money", _t_money),
    ("duration", _t_duration),
)

# Sentences without a figure, so that chunks are not all figures.
FILLERS = (
    "Les équipes régionales poursuivent le déploiement auprès des professionnels de santé.",
    "Ces résultats confirment la tendance observée lors des précédents bilans.",
    "Les agences régionales de santé accompagnent les établissements dans cette démarche.",
    "Un point d’étape sera présenté lors du prochain comité de suivi.",
    "Les usagers peuvent retrouver ces informations sur le site de l’Assurance maladie.",
)


class BulletinGenerator:
    """Bulletin ``i`` of a seed is always the same; chunks are its paragraphs."""

    def __init__(self, seed: int = 0, *, chunks_per_bulletin: int = 10, facts_per_chunk: int = 3) -> None:
        self.seed = seed
        self.chunks_per_bulletin = chunks_per_bulletin
        self.facts_per_chunk = facts_per_chunk

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(f"{self.seed}:" + ":".join(map(str, parts)))  # str seeds are stable across runs

    def bulletin(self, i: int) -> SyntheticBulletin:
        rng = self._rng("bulletin", i)
        topic_i = rng.randrange(len(TOPICS))
        topic = TOPICS[topic_i]
        year = rng.randint(2022, 2026)
        month = rng.randint(1, 12)
        day = rng.randint(1, 28)
        published = date(year, month, day)
        period = f"{MONTHS[month - 1]} {year}"
        title = f"{topic.theme} : bilan de {period}"
        head = f"{title}\n\nPublié le {day} {MONTHS[month - 1]} {year}.\n\n"
        paragraphs: list[str] = []
        facts: list[list[Fact]] = []
        for _ in range(self.chunks_per_bulletin):
            region_i = rng.randrange(len(REGIONS))
            sentences: list[str] = []
            chunk_facts: list[Fact] = []
            for template_i in rng.sample(range(len(TEMPLATES)), min(self.facts_per_chunk, len(TEMPLATES))):
                kind, build = TEMPLATES[template_i]
                sentence, fig, value, unit, question = build(topic, REGIONS[region_i], period, rng)
                sentences.append(sentence)
                chunk_facts.append(Fact(sentence, fig, value, unit, kind, topic_i, template_i, region_i, question))
            sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(FILLERS))
            paragraphs.append(" ".join(sentences))
            facts.append(chunk_facts)
        text = head + "\n\n".join(paragraphs) + "\n"
        content_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        file_name = f"bulletin-{i:07d}-{year}-{month:02d}-{day:02d}.txt"
        bulletin = Bulletin(
            id=f"synthetic/{file_name}", title=title, text=text, date=published, path=file_name,
            content_hash=content_hash,
        )  # fmt: skip
        chunks: list[Chunk] = []
        pos = len(head)
        for n, para in enumerate(paragraphs):
            start = text.index(para, pos)
            chunks.append(Chunk(chunk_id(bulletin.id, content_hash, n), bulletin.id, n, start, start + len(para), para))
            pos = start + len(para)
        return SyntheticBulletin(bulletin, chunks, facts, file_name, i)

    def bulletins(self, n_chunks: int, *, start_chunk: int = 0) -> Iterator[SyntheticBulletin]:
        """Bulletins holding chunks ``start_chunk`` .. ``n_chunks`` (whole bulletins; sizes round up)."""
        per = self.chunks_per_bulletin
        for i in range(start_chunk // per, -(-n_chunks // per)):
            yield self.bulletin(i)

    def questions(self, n: int, *, n_chunks: int) -> list[Fact]:
        """``n`` facts drawn (reproducibly) from the first ``n_chunks`` chunks; their ``question`` asks for them."""
        rng = self._rng("questions", n_chunks)
        n_bulletins = max(1, -(-n_chunks // self.chunks_per_bulletin))
        out: list[Fact] = []
        for _ in range(n):
            sb = self.bulletin(rng.randrange(n_bulletins))
            out.append(rng.choice(rng.choice(sb.facts)))
        return out

    def write_files(self, folder: Path, n_chunks: int) -> list[Path]:
        """Write bulletins as ``.txt`` files (what ``assistant ingest`` reads)."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for sb in self.bulletins(n_chunks):
            path = folder / sb.file_name
            path.write_text(sb.bulletin.text, encoding="utf-8")
            paths.append(path)
        return paths


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class PoolVectors:
    """Cheap, reproducible chunk vectors from a small pool of real sentence embeddings.

    The pool holds one embedding per (topic, template) skeleton and one per region, so
    its cost is fixed (~130 sentences); a chunk's vector is the normalised sum of its
    sentences' skeletons, its region and seeded Gaussian noise.
    """

    def __init__(self, encoder: Encoder, *, seed: int = 0, noise: float = 0.15) -> None:
        skeletons = []
        for topic in TOPICS:
            for _, build in TEMPLATES:
                sentence, *_ = build(topic, "en France", "janvier 2025", random.Random(0))
                skeletons.append(embed_text(f"{topic.theme} : bilan", sentence))
        self.skeletons = np.asarray(encoder.encode(skeletons), dtype=np.float32).reshape(
            len(TOPICS), len(TEMPLATES), -1
        )
        self.regions = np.asarray(encoder.encode(list(REGIONS)), dtype=np.float32)
        self.dim = self.skeletons.shape[-1]
        self.seed = seed
        self.noise = noise

    def vectors(self, sb: SyntheticBulletin) -> np.ndarray:
        """Unit vectors for the chunks of ``sb`` (the same for the same seed and bulletin)."""
        rng = np.random.default_rng([self.seed, sb.index])
        out = np.empty((len(sb.chunks), self.dim), dtype=np.float32)
        for n, facts in enumerate(sb.facts):
            v = sum((self.skeletons[f.topic, f.template] for f in facts), np.zeros(self.dim, dtype=np.float32))
            v = v / max(len(facts), 1) + 0.5 * self.regions[facts[0].region] if facts else v
            v = v + rng.normal(0.0, self.noise / np.sqrt(self.dim), self.dim).astype(np.float32)
            out[n] = v / np.linalg.norm(v)
        return out
