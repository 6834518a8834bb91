"""Exceptions raised by rag. Messages name the value, the limit and the fix."""


class RagError(Exception):
    """Base class of every error rag raises on purpose."""


class IndexLoadError(RagError):
    """The index on disk is missing, corrupt, truncated or built for another model."""


class ConfigError(RagError, ValueError):
    """A setting or argument is out of its allowed range."""
