"""Steps the browser tests share: logging in with the keyboard alone, keeping screenshots."""

import os
from pathlib import Path

from tests.factories import PASSWORD

# Set to a folder to keep screenshots of the pages (for looking at the design).
SCREENSHOT_DIR = os.environ.get("AVLABEL_SCREENSHOT_DIR", "")


def screenshot(page, name: str) -> None:
    if SCREENSHOT_DIR:
        page.screenshot(path=str(Path(SCREENSHOT_DIR) / name), full_page=True)


def log_in_by_keyboard(page, *, base_url: str, username: str, next_url: str) -> None:
    """Type a factory user's credentials into the login page and land on `next_url`."""
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.wait_for_selector("#id_username")
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{base_url}{next_url}", page.url
