"""Reading: from retrieved passages to the figure that answers, or an abstention.

* :mod:`.signals` — how a sentence and one of its figures relate to a question;
* :mod:`.features` — every candidate figure and its feature vector;
* :mod:`.model` — the learned scorer and calibrator, shipped as ``reader_model.json``;
* :mod:`.reader` — the :class:`Reader`: scores, picks, abstains, builds the answer;
* :mod:`.answer` — quote, citation, « as of » date and wording of an answer;
* :mod:`.train` — ``assistant train-reader``: rebuilds the model from the dev data.
"""

from .answer import ABSTAIN_TEXT, as_of_for, citation_for, figure_out
from .features import Candidate
from .reader import Reader

__all__ = ["ABSTAIN_TEXT", "Candidate", "Reader", "as_of_for", "citation_for", "figure_out"]
