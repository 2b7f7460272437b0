"""The drills run the pipeline as the end-to-end tests do: the same fixtures."""

from tests.e2e.conftest import broker, db, omnitron, pipeline  # noqa: F401
