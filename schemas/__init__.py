"""Message contracts (pydantic v2) and their exported JSON Schema files under schemas/json/."""
