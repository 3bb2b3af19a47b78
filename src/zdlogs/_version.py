"""The version, in a module of its own: the client's User-Agent needs it without importing the package's
public face (``zdlogs/__init__.py`` imports the pipeline, which imports the client)."""

__version__ = "0.1.0"
