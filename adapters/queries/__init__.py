"""Read side: the documents operators (CLI) and the HTTP API read, from the same queries."""
