"""The Merchant Portal (spec 12): its router; its templates are web/templates/portal/."""
