"""MkDocs hook: docstrings cite names Sphinx-style (:class:`CallError`); Markdown renders the
role as text, so drop it and keep the code span."""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:class|meth|func|attr|mod|exc|data|obj):(?=<code>)")


def on_page_content(html: str, **kwargs: Any) -> str:
    return ROLE.sub("", html)
