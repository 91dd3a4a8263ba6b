"""nbmlops.pipeline (see docs/development.md for ownership)."""
