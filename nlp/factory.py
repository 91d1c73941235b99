"""Builds the theme pipeline named by the settings. Heavy imports happen here, when called."""

from __future__ import annotations

from .cluster import HdbscanClusterer
from .embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from .lexical import LEXICAL_WEIGHT
from .pipeline import ThemePipeline

FAKE_MODEL = "hashing"


def make_embedder(model: str) -> Embedder:
    """'' is the packaged English MiniLM; 'hashing' a model-free stand-in; else a path or name."""
    if model == FAKE_MODEL:
        return HashingEmbedder()
    embedder = SentenceTransformerEmbedder(model or None)
    embedder.warm()
    return embedder


def make_pipeline(model: str, word_weight: float = LEXICAL_WEIGHT) -> ThemePipeline:
    """`word_weight`: the share of shared words in how alike two notes are (0: the model's
    cosine alone), see `nlp.lexical`."""
    return ThemePipeline(make_embedder(model), HdbscanClusterer(), lexical_weight=word_weight)


def make_pipeline_from(
    embedder: Embedder | None, word_weight: float = LEXICAL_WEIGHT
) -> ThemePipeline:
    """The default pipeline around an embedder; `None` when the vectors come ready-made."""
    return ThemePipeline(
        embedder or HashingEmbedder(), HdbscanClusterer(), lexical_weight=word_weight
    )
