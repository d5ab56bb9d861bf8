"""A headless Chromium for the tests that look at rendered pages, or the reason there is none.

Debian's ``chromium`` (or ``chromium-headless-shell``) is driven through playwright's
``executable_path``; playwright's own downloaded browser is used when present.  CI installs
Debian's package (``.ci/run``); elsewhere the browser tests skip, naming what is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil

CANDIDATES = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome")


def chromium_path() -> str | None:
    """The first Chromium on PATH, or None."""
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def missing() -> str | None:
    """Why no browser test can run here (None: one can)."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; CI installs it with the test extra)"
    if chromium_path() is None:
        return "no Chromium on PATH (apt-get install chromium; CI installs it)"
    return None


@contextlib.contextmanager
def page(width: int = 1100, height: int = 900):
    """A fresh playwright page in headless Chromium (closed afterwards)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()
