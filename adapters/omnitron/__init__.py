"""Omnitron: the HTTP client the pipeline uses and the simulator that stands in for it."""
