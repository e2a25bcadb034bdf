"""Cited answers to French questions about figures in source bulletins.

>>> from assistant import Assistant
>>> Assistant().ask("Combien d'assurés ont activé Mon Espace Santé ?").to_dict()
"""

from .core import Assistant
from .errors import AssistantError
from .models import Answer, Citation, FigureOut, Filters, IngestReport

__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "FigureOut", "Filters", "IngestReport"]
__version__ = "0.1.0"
