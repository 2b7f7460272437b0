"""Shared flows: one implementation of each use, below the entry points (`cli/`, `api/`, the web
pages) and above the adapters. A flow returns or yields its results (per-row results, a report
object) and prints nothing, so every entry point runs the same code and words it its own way."""
