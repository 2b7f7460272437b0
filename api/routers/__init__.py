"""One router per group of endpoints (spec section 11)."""
