"""``python -m nbmlops`` is the ``nbmlops`` command."""

from nbmlops.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
