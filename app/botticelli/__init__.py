"""Botticelli: a terminal chat and speed lab for fast OpenAI-compatible LLM providers."""

__version__ = "0.1.0"
