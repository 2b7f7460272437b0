"""The `oms` command line: the operator's interface (spec section 8)."""
