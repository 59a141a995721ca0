"""``python -m picdup``: the same as the ``picdup`` command."""

from picdup.cli import main

if __name__ == "__main__":
    main()
