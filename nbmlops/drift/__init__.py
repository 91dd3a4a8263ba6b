"""nbmlops.drift (see docs/development.md for ownership)."""
