"""Builds the theme pipeline named by the settings. Heavy imports happen here, when called."""

from __future__ import annotations

from .cluster import HdbscanClusterer
from .embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from .pipeline import ThemePipeline

FAKE_MODEL = "hashing"


def make_embedder(model: str) -> Embedder:
    """'' is the packaged English MiniLM; 'hashing' a model-free stand-in; else a path or name."""
    if model == FAKE_MODEL:
        return HashingEmbedder()
    embedder = SentenceTransformerEmbedder(model or None)
    embedder.warm()
    return embedder


def make_pipeline(model: str) -> ThemePipeline:
    return ThemePipeline(make_embedder(model), HdbscanClusterer())


def make_pipeline_from(embedder: Embedder | None) -> ThemePipeline:
    """The default pipeline around an embedder; `None` when the vectors come ready-made."""
    return ThemePipeline(embedder or HashingEmbedder(), HdbscanClusterer())
