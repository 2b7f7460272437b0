"""Browser tests of the web interface (spec 12), with Playwright driving Debian chromium."""
