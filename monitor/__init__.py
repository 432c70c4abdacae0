"""engage: real-time classroom engagement monitor (facial expressions, aggregates only)."""

__version__ = "0.1.0"
