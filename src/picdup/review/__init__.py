"""The local review page: ``picdup review REPORT``.

Starlette and uvicorn are an optional extra (``pip install 'picdup[review]'``); they are imported
only when a review starts, so the rest of picdup (and the HTML report, which reads this package's
``static`` files) works without them.
"""

from __future__ import annotations

from picdup.review.server import ReviewServer, open_review

__all__ = ["ReviewServer", "open_review"]
