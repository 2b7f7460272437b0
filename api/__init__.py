"""The HTTP API (spec section 11): FastAPI on uvicorn. It holds no business logic: reads go
through adapters/queries (the same queries as `oms show`), changes are messages to the public
queues, so the workers stay the only writers of the pipeline's data."""
