"""The web interface (spec 12): server-rendered pages in the same app as the HTTP API. Shared
pieces here (sessions and login, security headers and CSRF, templates, errors); one package per
area: `web/portal/` (merchants) now, `web/backoffice/` (operators) next, each with its router
and its templates under `web/templates/<area>/`."""
