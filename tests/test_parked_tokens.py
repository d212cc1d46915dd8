"""Tokens parked on a link confirm page don't outlive it.

After TikTok's consent the tokens wait, encrypted, for the person to press Link it. A page
nobody answered is pruned by the bot's background loop once it expired (no other link needs
to start), and its tokens are revoked at TikTok, once. `rotate-key` re-encrypts tokens that
are still waiting, so their page still links after the rotation.

Expiry is set by an SQL update of the page's row; each round of the prune is awaited by its
count, and "nothing more" is proven by rounds that must come after.
"""

from __future__ import annotations

import asyncio
import html
import time

from cryptography.fernet import Fernet

from sandbox.fakes.server import Reply
from tests.cli_env import env_for, run_bot_cli
from tests.conftest import db_execute, db_rows, text_of
from tests.test_link_confirm import consent_page, links


def parked_rows(h) -> list[dict]:
    return db_rows(h, "SELECT * FROM oauth_states WHERE pending_grant IS NOT NULL")


def expire_pages(h) -> None:
    db_execute(h, "UPDATE oauth_states SET confirm_expires_at = ?", time.time() - 1)


async def prune_rounds(h, n: int = 2, timeout: float = 10.0) -> None:
    """Wake the prune until `n` more rounds have finished: the last began after this call."""
    prune = h.bot.parts.parked_prune
    target = prune.rounds + n
    deadline = time.monotonic() + timeout
    while prune.rounds < target:
        assert time.monotonic() < deadline, "the prune did not run"
        prune.wake()
        await asyncio.sleep(0.02)


async def test_a_page_nobody_confirmed_is_pruned_by_the_loop_and_revoked_once(h):
    await h.restart(parked_prune_interval=0.05)
    _, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")
    grant = h.tiktok.grants[-1]
    assert len(parked_rows(h)) == 1
    expire_pages(h)

    prune = h.bot.parts.parked_prune  # no wake-up, nobody starting a link: its own rounds
    start = prune.rounds
    deadline = time.monotonic() + 10
    while prune.rounds < start + 2:
        assert time.monotonic() < deadline, "the prune loop did not run on its own"
        await asyncio.sleep(0.02)

    assert parked_rows(h) == []
    assert h.tiktok.revoked == [grant.access_token]
    assert not h.tiktok.is_access_valid(grant.access_token)
    await prune_rounds(h)  # later rounds: nothing more
    assert len(h.tiktok.calls_to("revoke")) == 1
    status, refused = await h.confirm(page)
    assert status == 400 and "This link has expired" in html.unescape(refused)
    assert links(h) == []


async def test_a_page_still_open_keeps_its_tokens_and_still_links(h):
    _, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")
    await prune_rounds(h)
    assert len(parked_rows(h)) == 1 and h.tiktok.calls_to("revoke") == []
    status, done = await h.confirm(page)
    assert status == 200 and "Linked as Brand Social" in done
    await prune_rounds(h)
    assert h.tiktok.calls_to("revoke") == [] and len(links(h)) == 1


async def test_a_revoke_tiktok_could_not_answer_is_tried_again(h):
    await consent_page(h, "U1", "open-1", "Brand Social")
    grant = h.tiktok.grants[-1]
    h.tiktok.script("revoke", Reply(503, body="Service Unavailable", content_type="text/plain"))
    expire_pages(h)
    await prune_rounds(h)
    await prune_rounds(h)
    assert [c.body.get("token") for c in h.tiktok.calls_to("revoke")] == [grant.access_token] * 2
    assert h.tiktok.revoked == [grant.access_token]  # the second one reached TikTok's handler
    assert parked_rows(h) == []


async def test_rotate_key_reencrypts_a_parked_token_and_its_page_still_links(h, tmp_path):
    _, page, _ = await consent_page(h, "U1", "open-1", "Brand Social")
    await h.stop()
    old_key, new_key = h.settings.token_encryption_key, Fernet.generate_key().decode()
    env = env_for(h.settings, TOKEN_ENCRYPTION_KEY=new_key, OLD_TOKEN_ENCRYPTION_KEY=old_key)
    code, out, err = await run_bot_cli("rotate-key", env=env, cwd=tmp_path)
    assert code == 0, out + err
    assert "re-encrypted 1 link(s) still waiting on their confirm page" in out
    (row,) = parked_rows(h)
    Fernet(new_key.encode()).decrypt(row["pending_grant"].encode())  # under the new key

    await h.start(token_encryption_key=new_key)
    status, done = await h.confirm(page)
    assert status == 200 and "Linked as Brand Social" in done
    (linked,) = links(h)
    assert linked["open_id"] == "open-1"
    assert "Brand Social" in text_of(await h.command("whoami"))
