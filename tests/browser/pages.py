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
    # The rate page names the clip on show in its address (?clip=, rater.js).
    assert page.url.split("?clip=")[0] == f"{base_url}{next_url}", page.url


def submit_and_wait_for_next(page, key: str = "Enter") -> None:
    """Press Enter (or S: skip) on the rate page and wait until the next clip is on screen: switched to in
    place (the clip held ahead, rater.js) or loaded as a page (the done page, the form's next
    clip). Either way #rater-config, when there is one, names another clip."""
    current = page.locator("#rater-config").text_content()
    page.keyboard.press(key)
    page.wait_for_function(
        """current => {
            const config = document.getElementById("rater-config");
            return document.readyState === "complete" && (!config || config.textContent !== current);
        }""",
        arg=current,
    )


def wait_until_settled(page) -> None:
    """Until the rate page has saved every clip it moved on from and knows what it holds
    ahead (rater.js writes both on #rater): what the database holds is then final."""
    page.wait_for_selector("#rater[data-saving='0']:is([data-ahead='ready'], [data-ahead='none'])", state="attached")
