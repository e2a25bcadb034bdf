"""Simulated writer deaths between two Chroma calls (used by the reliability and server tests).

Each Chroma write call is atomic on its own, so raising instead of the n-th call leaves on
disk exactly what a ``kill -9`` between two calls would (the real-kill stress test in
``tests/test_reliability.py`` checks that assumption with real processes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

WRITES = ("add", "upsert", "update", "delete", "modify")


class Died(BaseException):
    """The writer dying (a BaseException: no ``except Exception`` in the code may stop it)."""


@contextlib.contextmanager
def die_at_write(n: int | None, calls: list[str], *, kind: str | None = None) -> Iterator[None]:
    """Record every Chroma write call in ``calls``; raise :class:`Died` instead of the ``n``-th
    (counting only calls named ``kind`` if given). ``n=None`` only counts."""
    from chromadb.api.models.Collection import Collection

    counted_calls: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        for name in WRITES:
            original = getattr(Collection, name)

            def counted(self: Any, *args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
                calls.append(_name)
                if kind is None or kind == _name:
                    counted_calls.append(_name)
                    if len(counted_calls) == n:
                        raise Died(_name)
                return _original(self, *args, **kw)

            mp.setattr(Collection, name, counted)
        yield
