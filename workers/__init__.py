"""dramatiq actors, one module per stage. Importing this package configures the broker first,
so every actor module below binds to it (dramatiq: set the broker before any actor exists)."""

from workers.broker import broker

__all__ = ["broker"]
