"""The order-management domain: pure Python, no frameworks (enforced by import-linter)."""
