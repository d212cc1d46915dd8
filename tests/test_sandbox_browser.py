"""End to end: `python -m bot sandbox` driven in a real headless Chromium.

Links an account through the consent page, answers a typed command, announces an upload with
the form, cancels it with its button and the confirm dialog, and sees the announcement change
and its thread grow. Holds uploads with the form's Hold option: one counts down and is
cancelled (no init at TikTok), one is started now and becomes an announced upload.
Needs Debian's chromium and chromium-driver (.ci/run installs them):
skipped without them, except under CI, where their absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from sandbox.screenshot import chromium_options
from tests.sandbox_page import running_sandbox

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 15


def _browser_or_skip() -> tuple[str, str]:
    chromium = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    driver = CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    missing = " and ".join(
        n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p
    )
    if os.environ.get("CI"):
        pytest.fail(
            f"CI must install chromium: {missing} not found "
            "(apt-get install -y chromium chromium-driver)"
        )
    pytest.skip(f"{missing} not installed (apt-get install -y chromium chromium-driver)")


@pytest.fixture
def browser():
    chromium, driver_path = _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sandbox-chromium-")
    options = chromium_options(chromium, profile, hide_scrollbars=False)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_link_announce_cancel_in_a_real_browser(browser, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    started = time.monotonic()
    d = browser
    wait = WebDriverWait(
        d, WAIT_S, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )

    def css(selector):
        return d.find_elements(By.CSS_SELECTOR, selector)

    def h1_text() -> str:
        """The page's heading, or "" while a form's answer replaces the page: Chromium then
        says the node found a moment ago "does not belong to the document"."""
        try:
            return d.find_element(By.TAG_NAME, "h1").text
        except WebDriverException:
            return ""

    def ephemeral_with(text):
        return [m for m in css("#messages article.ephemeral") if text in m.text]

    def type_command(text):
        box = d.find_element(By.ID, "command")
        box.clear()
        box.send_keys(text, Keys.ENTER)

    with running_sandbox(tmp_path) as url:
        try:
            d.get(url)
            wait.until(lambda _: len(css("#person option")) == 3)
            assert d.find_element(By.ID, "person").get_attribute("value") == "U0ALEX"

            # A typed command gets its answer, marked as only for the one who asked.
            type_command("/tiktok-cancel help")
            (help_answer,) = wait.until(lambda _: ephemeral_with("stops a TikTok upload"))
            assert "Only visible to you" in help_answer.text

            # Link through the consent page the Connect button opens.
            type_command("/tiktok-cancel connect")
            wait.until(lambda _: ephemeral_with("Link your TikTok account"))
            sandbox_window = d.current_window_handle
            before = set(d.window_handles)
            connect = wait.until(
                lambda _: [
                    a
                    for a in css("#messages article.ephemeral a.btn")
                    if a.text == "Connect TikTok"
                ]
            )[-1]
            connect.click()
            wait.until(lambda _: len(d.window_handles) > len(before) or "/consent" in d.current_url)
            new = set(d.window_handles) - before
            if new:
                d.switch_to.window(new.pop())
            allow = wait.until(lambda _: d.find_elements(By.LINK_TEXT, "Allow as Alex Rivera"))[0]
            allow.click()
            # The bot's page names whom it links to and asks this browser to Sign in with
            # Slack first (many workspaces); nothing is linked until "Link it".
            wait.until(lambda _: "Sign in with Slack" in h1_text())
            d.find_element(By.LINK_TEXT, "Sign in with Slack").click()
            wait.until(lambda _: "Link this TikTok account" in h1_text())
            d.find_element(By.CSS_SELECTOR, "button[value=link]").click()
            wait.until(lambda _: "Linked as Alex Rivera" in h1_text())
            if d.current_window_handle != sandbox_window:
                d.close()
                d.switch_to.window(sandbox_window)
            else:
                d.get(url)
            # The bot's message about the link arrives in the app's Messages.
            d.find_element(By.ID, "nav-dm").click()
            wait.until(lambda _: any("is linked" in m.text for m in css("#messages article")))
            css("#channels a[data-channel=C0LAUNCH]")[0].click()

            # Announce an upload with the form, as the pipeline would. Its title tries to
            # inject HTML: it must show as text.
            title = d.find_element(By.CSS_SELECTOR, "#announce input[name=title]")
            title.clear()
            title.send_keys("Spring teaser <img src=x onerror=alert(1)>")
            d.find_element(By.ID, "announce-button").click()

            def announcement(_=None):
                found = [
                    m
                    for m in css("#messages > article.message:not(.ephemeral)")
                    if "TikTok upload" in m.text
                ]
                return found[-1] if found else None

            wait.until(
                lambda _: (
                    announcement()
                    and "Cancel upload"
                    in [b.text for b in announcement().find_elements(By.CSS_SELECTOR, "button.btn")]
                )
            )
            assert "<img src=x onerror=alert(1)>" in announcement().text
            assert not css("#messages img")
            ts = announcement().get_attribute("data-ts")

            # Cancel it: the button asks first, in a dialog.
            def click_cancel(_):
                buttons = [
                    b
                    for b in d.find_elements(
                        By.CSS_SELECTOR, f'#messages article[data-ts="{ts}"] > .blocks button.btn'
                    )
                    if b.text == "Cancel upload"
                ]
                if not buttons:
                    return False
                buttons[0].click()
                return True

            wait.until(click_cancel)
            dialog = wait.until(
                lambda _: [x for x in css("dialog#confirm[open]") if x.is_displayed()]
            )[0]
            assert "Cancel this upload?" in dialog.text
            d.find_element(By.ID, "confirm-ok").click()

            def cancelled(_):
                (art,) = css(f'#messages article[data-ts="{ts}"]')
                own_buttons = art.find_elements(By.CSS_SELECTOR, ":scope > .blocks button")
                replies = art.find_elements(By.CSS_SELECTOR, ".thread article.message")
                return (
                    "Stopping \u2014" in art.text
                    and not [b for b in own_buttons if b.text == "Cancel upload"]
                    and replies
                    and "asked to cancel" in replies[0].text
                )

            wait.until(cancelled)
            assert wait.until(lambda _: ephemeral_with("TikTok is stopping \u201cSpring teaser"))
            assert not css("#messages img")
        except Exception:
            messages = css("#messages")
            print("page text:", messages[0].text if messages else d.page_source[:4000])
            print("panels:", css(".panels")[0].text if css(".panels") else "")
            print("console:", d.get_log("browser"))
            raise
    assert time.monotonic() - started < 60


def test_hold_then_cancel_or_start_now_in_a_real_browser(browser, tmp_path):
    """The Hold option: a held upload counts down with Cancel and Start now; Cancel holds it
    back with nothing sent to TikTok, Start now makes it an announced upload with one init."""
    import json
    import re
    import urllib.request

    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    started = time.monotonic()
    d = browser
    wait = WebDriverWait(
        d, WAIT_S, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )

    def css(selector, within=None):
        return (within or d).find_elements(By.CSS_SELECTOR, selector)

    def held(title):
        """The channel message of the held upload titled `title` (None until it shows)."""
        found = [
            m
            for m in css("#messages > article.message:not(.ephemeral)")
            if f"\u201c{title}\u201d" in m.text or f"TikTok upload: \u201c{title}" in m.text
        ]
        return found[-1] if found else None

    def own_buttons(article):
        return {b.text: b for b in css(":scope > .blocks button.btn", article)}

    def read(look):
        """`look()` once it answers, read again if the page re-rendered under it."""
        return wait.until(lambda _: look() or None)

    def text_of(title):
        return read(lambda: held(title) and held(title).text)

    def countdown_of(title):
        return read(lambda: [c.text for c in css(".countdown", held(title))] or None)

    def hold(title):
        field = d.find_element(By.CSS_SELECTOR, "#announce input[name=title]")
        field.clear()
        field.send_keys(title)
        d.find_element(By.ID, "announce-button").click()
        wait.until(
            lambda _: held(title) and {"Cancel", "Start now"} <= set(own_buttons(held(title)))
        )

    def press(title, label, dialog_title):
        def click(_):
            button = own_buttons(held(title)).get(label)
            if button is None:
                return False
            button.click()
            return True

        wait.until(click)
        dialog = read(lambda: [x for x in css("dialog#confirm[open]") if x.is_displayed()])[0]
        assert dialog_title in dialog.text
        d.find_element(By.ID, "confirm-ok").click()

    def inits(url):
        with urllib.request.urlopen(url + "/api/state", timeout=10) as resp:
            return json.load(resp)["inits"]

    with running_sandbox(tmp_path) as url:
        try:
            d.get(url)
            wait.until(lambda _: len(css("#next-init option")) > 3)
            d.find_element(By.ID, "hold").click()
            assert d.find_element(By.ID, "announce-button").text == "Hold upload"
            publish_id_field = d.find_element(By.CSS_SELECTOR, "#announce input[name=publish_id]")
            assert not publish_id_field.is_displayed()  # TikTok gives it at the start
            assert d.find_element(By.ID, "hold-s").get_attribute("value") == "30"

            # Held: the start counts down on the page, with both buttons.
            hold("Held teaser")
            shown = text_of("Held teaser")
            assert "goes to TikTok as Brand Social" in shown
            assert "nothing has been sent to TikTok yet" in shown
            (first,) = countdown_of("Held teaser")
            seconds = re.fullmatch(r"in (\d+) seconds", first)
            assert seconds and 15 <= int(seconds.group(1)) <= 30, first
            wait.until(lambda _: countdown_of("Held teaser") != [first])
            # The first hold linked the team account brand; the page says so.
            result = d.find_element(By.ID, "announce-result").text
            assert "linked Brand Social as the team account brand" in result
            inits_line = d.find_element(By.ID, "inits").text
            assert inits_line.startswith("Direct Post inits TikTok has received: 0")

            # Cancel, confirmed: held back, never sent to TikTok.
            press("Held teaser", "Cancel", "Cancel this upload?")
            wait.until(
                lambda _: (
                    "was held back and never sent to TikTok" in held("Held teaser").text
                    and not own_buttons(held("Held teaser"))
                    and css(".thread article.message", held("Held teaser"))
                )
            )
            reply = read(lambda: css(".thread article.message", held("Held teaser"))[0].text)
            assert "cancelled \u201cHeld teaser\u201d" in reply and "never sent to TikTok" in reply
            wait.until(lambda _: not css(".countdown", held("Held teaser")))
            assert inits(url) == 0

            # Another one, started now: it continues as an announced upload.
            hold("Second teaser")
            press("Second teaser", "Start now", "Start it now?")
            wait.until(
                lambda _: (
                    "Upload v_pub_url~v2-1." in held("Second teaser").text
                    and "Cancel upload" in own_buttons(held("Second teaser"))
                    and "TikTok accepted" in held("Second teaser").text
                )
            )
            shown = text_of("Second teaser")
            publish_id = re.search(r"v_pub_url~v2-1\.\d+", shown).group(0)
            assert f"as upload {publish_id}" in shown
            assert inits(url) == 1
            wait.until(lambda _: "has received: 1" in d.find_element(By.ID, "inits").text)
            assert publish_id in d.find_element(By.ID, "uploads").text
        except Exception:
            messages = css("#messages")
            print("page text:", messages[0].text if messages else d.page_source[:4000])
            print("panels:", css(".panels")[0].text if css(".panels") else "")
            raise
    assert time.monotonic() - started < 60


# Where a rendered text starts a new line: the index of each first character of a line.
LINE_STARTS_JS = """
const node = arguments[0];
const starts = [];
let top = null, index = 0;
const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
for (let text = walker.nextNode(); text; text = walker.nextNode()) {
  for (let i = 0; i < text.length; i++, index++) {
    const range = document.createRange();
    range.setStart(text, i);
    range.setEnd(text, i + 1);
    const rect = range.getClientRects()[0];
    if (!rect) continue;
    if (top !== null && rect.top > top + 2) starts.push(index);
    top = rect.top;
  }
}
return starts;
"""

# The shown inputs whose placeholder is wider than the room inside the box.
PLACEHOLDERS_THAT_OVERFLOW_JS = """
const ctx = document.createElement("canvas").getContext("2d");
const over = [];
for (const input of document.querySelectorAll("input[placeholder]")) {
  if (!input.offsetParent || !input.placeholder) continue;
  const style = getComputedStyle(input);
  ctx.font = style.font;
  const width = ctx.measureText(input.placeholder).width;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  if (width > room) over.push([input.name || input.id, input.placeholder, width, room]);
}
return over;
"""


def test_placeholders_fit_and_ids_wrap_only_between_parts(browser, tmp_path):
    """Every placeholder fits its box, with Hold on and off; a long publish_id in the
    uploads table wraps only after its ~ or a dot, never inside a part, and the table stays
    inside the panel."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from sandbox.screenshot import BackgroundSandbox

    d = browser
    wait = WebDriverWait(d, WAIT_S, poll_frequency=0.1)
    long_id = "v_pub_url~v2.7311240056418829314"
    with BackgroundSandbox(str(tmp_path / "sb.db")) as running:
        sb = running.sb
        status, _ = running.call(
            sb.announce({"publish_id": long_id, "channel": "C0LAUNCH", "title": "Long"}, "U0ALEX")
        )
        assert status == 201
        d.get(sb.url)
        wait.until(lambda _: long_id in d.find_element(By.ID, "uploads").text.replace("\n", ""))
        assert d.execute_script(PLACEHOLDERS_THAT_OVERFLOW_JS) == []
        d.find_element(By.ID, "hold").click()
        assert d.find_element(By.ID, "account").get_attribute("placeholder") == "brand"
        assert d.execute_script(PLACEHOLDERS_THAT_OVERFLOW_JS) == []

        (code,) = d.find_elements(By.CSS_SELECTOR, "#uploads td:first-child code")
        assert code.text.replace("\n", "") == long_id
        starts = d.execute_script(LINE_STARTS_JS, code)
        assert starts, "the id fits on one line: the test checks nothing"
        assert all(long_id[i - 1] in "~." for i in starts), (starts, long_id)
        table_right, panel_right = d.execute_script(
            "return [document.querySelector('.uploads').getBoundingClientRect().right,"
            " document.querySelector('.panels').getBoundingClientRect().right]"
        )
        assert table_right <= panel_right


def test_a_click_while_the_page_rerenders_is_not_lost(browser, tmp_path):
    """The pointer presses the Cancel upload button; before it is released, the bot answers
    a cancel of the same upload (a thread reply: the announcement changes) and the page takes
    that state in. The button under the pointer stays, the click lands (the confirm dialog
    opens), and the announcement updates after. Meanwhile the TikTok panel shows the answer
    armed for the next cancel, and nothing armed once that cancel has used it."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from sandbox.screenshot import BackgroundSandbox

    d = browser
    wait = WebDriverWait(
        d, WAIT_S, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    publish_id = "v_pub_url~v2.4242"

    def armed_text():
        return d.find_element(By.ID, "armed").text

    with BackgroundSandbox(str(tmp_path / "sb.db")) as running:
        sb = running.sb
        try:
            running.call(sb.link_person("U0ALEX"))
            status, posted = running.call(
                sb.announce(
                    {"publish_id": publish_id, "channel": "C0LAUNCH", "title": "Spring teaser"},
                    "U0ALEX",
                )
            )
            assert status == 201
            ts = posted["ts"]
            d.get(sb.url)
            article = f'#messages article[data-ts="{ts}"]'
            wait.until(lambda _: d.find_elements(By.CSS_SELECTOR, f"{article} > .blocks button"))
            wait.until(lambda _: "Nothing armed" in armed_text())

            # Script the next cancel of this upload in the panel: the panel says it is armed.
            Select(d.find_element(By.ID, "upload")).select_by_value(publish_id)
            Select(d.find_element(By.ID, "next-answer")).select_by_value("invalid_params")
            d.find_element(By.ID, "script-next").click()
            wait.until(
                lambda _: (
                    f"next cancel of {publish_id}: invalid_params (HTTP 400)"
                    in armed_text().replace("\n", " ")
                )
            )
            assert "Nothing armed" not in armed_text()
            assert d.find_element(By.ID, "next-answer").get_attribute("value") == "invalid_params"

            # Press the button and hold it down.
            (cancel,) = [
                b
                for b in d.find_elements(By.CSS_SELECTOR, f"{article} > .blocks button")
                if b.text == "Cancel upload"
            ]
            ActionChains(d).move_to_element(cancel).click_and_hold().perform()
            # Meanwhile a cancel of the same upload (typed by alex elsewhere) uses the armed
            # answer; the bot threads it under the announcement and updates it.
            assert running.call(sb.command("U0ALEX", publish_id))["answered"]
            # The page's periodic refresh takes that state in (and renders it, same task).
            wait.until(
                lambda _: d.execute_script(
                    "const m = state.channels[0].messages.find((x) => x.ts === arguments[0]);"
                    "return m.replies.length === 1 && state.armed.length === 0;",
                    ts,
                )
            )
            assert cancel.text == "Cancel upload"  # still the very element: not replaced
            ActionChains(d).release().perform()
            dialog = wait.until(
                lambda _: [x for x in d.find_elements(By.CSS_SELECTOR, "dialog#confirm[open]")]
            )[0]
            assert "Cancel this upload?" in dialog.text

            # The armed answer was used: the panel says nothing is armed, and its picker is
            # back on the normal answer.
            wait.until(lambda _: "Nothing armed" in armed_text())
            assert d.find_element(By.ID, "next-answer").get_attribute("value") == "normal"

            # Confirmed: this cancel gets TikTok's usual answer, and the announcement, no
            # longer under the pointer, shows both attempts.
            d.find_element(By.ID, "confirm-ok").click()

            def both_attempts(_):
                (art,) = d.find_elements(By.CSS_SELECTOR, article)
                replies = art.find_elements(By.CSS_SELECTOR, ".thread article.message")
                return "Stopping \u2014" in art.text and len(replies) == 2

            wait.until(both_attempts)
        except Exception:
            messages = d.find_elements(By.ID, "messages")
            print("page text:", messages[0].text if messages else d.page_source[:4000])
            print("console:", d.get_log("browser"))
            raise


def test_the_readme_screenshot_is_made_by_its_script(browser, tmp_path):
    """`python -m sandbox.screenshot` stages the sandbox and captures the page; here into a
    temporary file (UPDATE_SCREENSHOT=1: into docs/sandbox.png, the README's picture)."""
    from sandbox import screenshot

    out = screenshot.OUT if os.environ.get("UPDATE_SCREENSHOT") == "1" else tmp_path / "shot.png"
    screenshot.take(out, browser)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (screenshot.WIDTH, screenshot.HEIGHT)


def test_approve_and_reject_in_the_modal_in_a_real_browser(browser, tmp_path):
    """Needs approval on the form: the card's Review and approve opens the bot's post page as
    a modal on the page (privacy not chosen, the title as text); left without a privacy it is
    refused next to the field, the bot's own error shows next to its field, and sent right it
    closes and the upload starts once. Reject, as sam of @social-leads, asks a reason in a
    modal and ends it with nothing sent to TikTok."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from sandbox.screenshot import BackgroundSandbox

    d = browser
    wait = WebDriverWait(
        d, WAIT_S, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    title = "Held <img src=x onerror=alert(1)> & more"

    def css(selector, within=None):
        return (within or d).find_elements(By.CSS_SELECTOR, selector)

    def card(name):
        """The newest channel message about the upload titled `name` (None until it shows)."""
        found = [m for m in css("#messages > article.message:not(.ephemeral)") if name in m.text]
        return found[-1] if found else None

    def press(name, label):
        def click(_):
            shown = card(name)
            buttons = [b for b in css(":scope > .blocks button.btn", shown)] if shown else []
            chosen = [b for b in buttons if b.text == label]
            if not chosen:
                return False
            chosen[0].click()
            return True

        wait.until(click)

    def modal():
        return wait.until(lambda _: [x for x in css("dialog#modal[open]") if x.is_displayed()])[0]

    def field(block_id):
        return css(f'#modal-body .input[data-block-id="{block_id}"]')[0]

    def error_of(block_id):
        shown = css(".input-error", field(block_id))[0]
        return shown.text if shown.is_displayed() else ""

    def hold(name):
        box = d.find_element(By.CSS_SELECTOR, "#announce input[name=title]")
        box.clear()
        box.send_keys(name)
        d.find_element(By.ID, "announce-button").click()
        wait.until(lambda _: card(name) and "Review and approve" in card(name).text)

    with BackgroundSandbox(str(tmp_path / "sb.db")) as running:
        sb = running.sb
        try:
            d.get(sb.url)
            wait.until(lambda _: css("#approvers input"))
            d.find_element(By.ID, "hold").click()
            d.find_element(By.ID, "needs-approval").click()
            approvers = {b.get_attribute("value"): b.is_selected() for b in css("#approvers input")}
            assert approvers == {"U0ALEX": True, "U0SAM": False, "U0RILEY": False, "S0LEADS": False}
            assert "@social-leads" in d.find_element(By.ID, "approvers").text
            sender = Select(d.find_element(By.ID, "submitted-by"))
            assert sender.first_selected_option.get_attribute("value") == "U0RILEY"
            hold(title)
            assert not css("#messages img")

            # Review and approve: the bot's post page, as a modal on the page.
            press(title, "Review and approve")
            shown = modal()
            assert d.find_element(By.ID, "modal-title").text == "Post to TikTok"
            assert d.find_element(By.ID, "modal-submit").text == "Approve and post"
            caption = css("textarea", field("caption"))[0]
            assert caption.get_attribute("value") == title
            privacy = Select(css("select", field("privacy"))[0])
            assert privacy.first_selected_option.get_attribute("value") == ""
            assert privacy.first_selected_option.text == "Choose who can see it"
            assert not [i for i in css("img", shown) if i.get_attribute("src").endswith("/x")]
            watch = [a for a in css("a.btn", shown) if a.text == "Watch the video"]
            assert watch and watch[0].get_attribute("href") == "https://cdn.example.com/teaser.mp4"
            assert "Music Usage Confirmation" in shown.text

            # No privacy: Slack's client refuses it; nothing reaches the bot.
            d.find_element(By.ID, "modal-submit").click()
            wait.until(lambda _: error_of("privacy") == "This field is required.")
            # Commercial content without saying which: the bot's error, next to its field.
            privacy.select_by_value("MUTUAL_FOLLOW_FRIENDS")
            css("input[value=on]", field("commercial"))[0].click()
            d.find_element(By.ID, "modal-submit").click()
            wait.until(lambda _: "tick Your brand" in error_of("commercial_kind"))
            assert error_of("privacy") == ""
            assert running.call(_inits(sb)) == 0
            # Sent right: the modal closes and the upload starts, once.
            css("input[value=your_brand]", field("commercial_kind"))[0].click()
            caption.clear()
            caption.send_keys("Edited & ready")
            d.find_element(By.ID, "modal-submit").click()
            wait.until(lambda _: not css("dialog#modal[open]"))
            wait.until(lambda _: "has received: 1" in d.find_element(By.ID, "inits").text)
            (init,) = sb.tiktok.calls_to("init")
            info = init.body["post_info"]
            assert info["title"] == "Edited & ready"
            assert info["privacy_level"] == "MUTUAL_FOLLOW_FRIENDS"
            assert info["brand_organic_toggle"] is True

            # Reject, as sam (a member of @social-leads, now named too).
            css("#approvers input[value=S0LEADS]")[0].click()
            hold("Second teaser")
            Select(d.find_element(By.ID, "person")).select_by_value("U0SAM")
            press("Second teaser", "Reject")
            shown = modal()
            assert d.find_element(By.ID, "modal-title").text == "Reject upload"
            reason = css("textarea", field("reason"))[0]
            reason.send_keys("Wrong <music>")
            d.find_element(By.ID, "modal-submit").click()
            wait.until(lambda _: not css("dialog#modal[open]"))
            wait.until(lambda _: "rejected" in card("Second teaser").text)
            assert "Wrong <music>" in card("Second teaser").text
            assert len(sb.tiktok.calls_to("init")) == 1
        except Exception:
            messages = css("#messages")
            print("page text:", messages[0].text if messages else d.page_source[:4000])
            print("modal:", [m.text for m in css("dialog#modal")])
            print("console:", d.get_log("browser"))
            raise


async def _inits(sb) -> int:
    return len(sb.tiktok.calls_to("init"))


def test_add_to_slack_then_switch_workspaces_in_a_real_browser(browser, tmp_path):
    """Add to Slack on the page installs Second workspace and shows it; a command there is
    answered there; switching back to Sandbox shows none of it, and Sandbox's announcement
    none in Second workspace. Uninstall (confirmed in the page's dialog) stays there: a command
    then gets Bolt's not-installed words, and Add to Slack is back."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from sandbox.screenshot import BackgroundSandbox

    d = browser
    wait = WebDriverWait(
        d, WAIT_S, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )

    def text_of(element_id: str) -> str:
        return d.find_element(By.ID, element_id).text

    def options() -> list[str]:
        return [o.text for o in Select(d.find_element(By.ID, "workspace")).options]

    def type_command(text: str) -> None:
        box = d.find_element(By.ID, "command")
        box.clear()
        box.send_keys(text, Keys.ENTER)

    with BackgroundSandbox(str(tmp_path / "sb.db")) as running:
        sb = running.sb
        status, _ = running.call(
            sb.announce({"publish_id": "v_pub_url~v2.41", "title": "First's"}, "U0ALEX")
        )
        assert status == 201
        d.get(sb.url)
        wait.until(lambda _: "First's" in text_of("messages"))
        assert options() == ["Sandbox"] and text_of("workspace-name") == "Sandbox"
        assert d.find_element(By.ID, "uninstall").get_attribute("hidden") is not None

        d.find_element(By.ID, "add-to-slack").click()
        wait.until(lambda _: text_of("workspace-name") == "Second workspace")
        assert options() == ["Sandbox", "Second workspace"]
        assert Select(d.find_element(By.ID, "workspace")).first_selected_option.text == (
            "Second workspace"
        )
        assert "Installed in Second workspace" in text_of("workspace-result")
        assert not d.find_element(By.ID, "add-to-slack").is_displayed()
        wait.until(lambda _: "First's" not in text_of("messages"))
        type_command("/tiktok-cancel whoami")
        wait.until(lambda _: "haven't linked a TikTok account" in text_of("messages"))
        assert "tcp_" in d.find_element(By.ID, "curl").get_attribute("textContent")

        Select(d.find_element(By.ID, "workspace")).select_by_visible_text("Sandbox")
        wait.until(lambda _: "First's" in text_of("messages"))
        assert "haven't linked" not in text_of("messages")

        Select(d.find_element(By.ID, "workspace")).select_by_visible_text("Second workspace")
        wait.until(lambda _: "haven't linked" in text_of("messages"))
        d.find_element(By.ID, "uninstall").click()
        wait.until(lambda _: d.find_element(By.ID, "confirm").is_displayed())
        assert text_of("confirm-title") == "Uninstall from Second workspace?"
        d.find_element(By.ID, "confirm-ok").click()
        wait.until(lambda _: "Second workspace (app uninstalled)" in options())
        assert d.find_element(By.ID, "add-to-slack").is_displayed()
        type_command("/tiktok-cancel whoami")
        wait.until(lambda _: "isn't installed in this workspace any more" in text_of("messages"))
