"""All stages' actors, for processes that run them all (the embedded demo)."""

from workers.ingest import ingest_order
from workers.split import split_order

__all__ = ["ingest_order", "split_order"]
