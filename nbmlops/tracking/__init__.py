"""nbmlops.tracking (see docs/development.md for ownership)."""
