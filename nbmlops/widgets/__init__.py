"""nbmlops.widgets (see docs/development.md for ownership)."""
