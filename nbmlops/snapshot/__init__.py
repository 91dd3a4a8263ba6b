"""nbmlops.snapshot (see docs/development.md for ownership)."""
