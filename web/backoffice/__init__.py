"""The Back Office (spec 12): the marketplace operator's pages under /backoffice/, operator users
only (a merchant user gets 403 on every URL, before anything is read)."""
