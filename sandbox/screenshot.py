"""`python -m sandbox.screenshot`: the README's picture of the sandbox (docs/sandbox.png),
taken from the page as it is today, never drawn by hand.

It runs the sandbox in this process (any free port, a temporary database), brings it to a
representative state through the sandbox's own paths (`stage`): alex links his TikTok account
(`connect`, TikTok's consent, the bot's confirm page) and asks `whoami`, the pipeline announces
an upload, and hands over another that is held, counting down to its start. Then it opens the
page in headless Chromium at 1400x900 and saves what it shows (`capture`).

Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium chromium-driver
fonts-noto-color-emoji`; without the emoji font the bot's emoji show as empty boxes) and
selenium (in the test extras: `pip install -e '.[test]'`). tests/test_sandbox_browser.py
runs `stage` and `capture` too, so the script keeps working; with `UPDATE_SCREENSHOT=1` that
test writes docs/sandbox.png itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

from sandbox.server import CHANNEL, PEOPLE, Sandbox

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "sandbox.png"
WIDTH, HEIGHT = 1400, 900
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ANNOUNCED = "v_pub_url~v2.7311240056418829314"  # as long as TikTok's are
HELD_TITLE = "Summer launch"
HOLD_S = 300
WAIT_S = 20


class BackgroundSandbox:
    """A `Sandbox` on its own event loop in a thread, for code that is not async."""

    def __init__(self, db_path: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sb = Sandbox(port=0, db_path=db_path)

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __enter__(self) -> BackgroundSandbox:
        self.thread.start()
        self.call(self.sb.start())
        return self

    def __exit__(self, *_: object) -> None:
        with contextlib.suppress(Exception):
            self.call(self.sb.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def stage(sb: Sandbox) -> dict[str, str]:
    """Bring the sandbox to the state the screenshot shows; what the page must then show."""
    alex = PEOPLE[0].user_id
    await sb.link_person(alex)
    whoami = await sb.command(alex, "whoami")
    status, body = await sb.announce(
        {
            "publish_id": ANNOUNCED,
            "channel": CHANNEL,
            "title": "Spring teaser",
            "source_url": "https://cdn.example.com/teaser.mp4",
            "video": {"format": "mp4", "codec": "h264", "fps": 30, "duration_s": 42.5},
        },
        alex,
    )
    if status != 201:
        raise RuntimeError(f"the bot did not announce the upload: {status} {body}")
    held = await sb.hold(
        {
            "user": alex,
            "source_url": "https://cdn.example.com/summer.mp4",
            "hold_s": HOLD_S,
            "post": {"title": HELD_TITLE, "privacy_level": "SELF_ONLY"},
            "video": {"format": "mp4", "codec": "h264", "duration_s": 30},
        }
    )
    if held["status"] != 202 or not whoami["answered"]:
        raise RuntimeError(f"the sandbox did not get there: hold {held}, whoami {whoami}")
    return {"announced": ANNOUNCED, "held": HELD_TITLE}


def capture(driver: Any, url: str, out: Path, shown: dict[str, str]) -> None:
    """Open the page, wait until it shows what `stage` made, and save it to `out` (PNG)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The page's own size, whatever the window's frame takes.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.get(url)

    def ready(_: Any) -> bool:
        text = driver.find_element(By.ID, "messages").text
        countdowns = driver.find_elements(By.CSS_SELECTOR, "#messages .countdown")
        return (
            "Only visible to you" in text
            and shown["announced"] in text
            and shown["held"] in text
            and any(c.text.startswith("in ") for c in countdowns)
            and shown["announced"] in driver.find_element(By.ID, "uploads").text
        )

    WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(ready)
    # The pointer rests outside the page, so no button shows as hovered.
    driver.execute_script("document.activeElement && document.activeElement.blur()")
    out.parent.mkdir(parents=True, exist_ok=True)
    if not driver.save_screenshot(str(out)):
        raise RuntimeError(f"Chromium did not save {out}")


def chromium_options(chromium: str, profile: str, hide_scrollbars: bool = True) -> Any:
    """Headless Chromium at the screenshot's size, as the screenshot and the browser test run
    it (the test keeps its scrollbars)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    if hide_scrollbars:
        options.add_argument("--hide-scrollbars")
    return options


@contextlib.contextmanager
def chromium_driver(chromium: str, chromedriver: str) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sandbox-screenshot-")
    driver = webdriver.Chrome(
        options=chromium_options(chromium, profile), service=Service(chromedriver)
    )
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def take(out: Path, driver: Any) -> None:
    """Run the sandbox, stage it, and save the page to `out` with `driver`."""
    with tempfile.TemporaryDirectory(prefix="sandbox-screenshot-db-") as tmp:
        running = BackgroundSandbox(str(Path(tmp) / "sandbox.sqlite3"))
        with running:
            shown = running.call(stage(running.sb))
            capture(driver, running.sb.url, out, shown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.screenshot", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT.relative_to(ROOT)}")
    parser.add_argument("--chromium", default=shutil.which("chromium") or CHROMIUM)
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or CHROMEDRIVER)
    args = parser.parse_args(argv)
    missing = [p for p in (args.chromium, args.chromedriver) if not Path(p).exists()]
    if missing:
        print(
            f"not found: {', '.join(missing)} (apt-get install -y chromium chromium-driver)",
            file=sys.stderr,
        )
        return 2
    try:
        import selenium  # noqa: F401
    except ImportError:
        print("selenium is missing: pip install -e '.[test]'", file=sys.stderr)
        return 2
    from bot.logs import setup_logging

    setup_logging("WARNING", [])
    with chromium_driver(args.chromium, args.chromedriver) as driver:
        take(args.out, driver)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
