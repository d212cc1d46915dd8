"""`python -m bot rotate-key`: every stored token re-encrypted with the new
TOKEN_ENCRYPTION_KEY, read with OLD_TOKEN_ENCRYPTION_KEY.

The links, the tokens parked on a link confirm page still waiting for the person to confirm,
and (many workspaces) every workspace's Slack tokens; a token neither key can read is counted
and left, and its owner asked to reconnect (a workspace: to add the app again).
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from storage.db import Store
from storage.installations import Installations

Say = Callable[[str], None]


def rotate_key(url: str, new_key: str, old_key: str, say: Say = print) -> int:
    """Re-encrypt every token to `new_key`; returns how many tokens could not be read."""
    keys = MultiFernet([Fernet(new_key.encode()), Fernet(old_key.encode())])

    def rotate_parked(db) -> int:
        """Tokens waiting on a confirm page, so the page still links after the rotation
        (one that can't be read is left for the prune to drop when its page expires)."""
        rotated = 0
        rows = db.query(
            "SELECT state_hash, pending_grant FROM oauth_states WHERE pending_grant IS NOT NULL"
        )
        for row in rows:
            try:
                new = keys.rotate(row["pending_grant"].encode()).decode()
            except InvalidToken:
                continue
            rotated += db.execute(  # unless it was confirmed or dropped meanwhile
                "UPDATE oauth_states SET pending_grant = ? "
                "WHERE state_hash = ? AND pending_grant = ?",
                [new, row["state_hash"], row["pending_grant"]],
            ).rowcount
        return rotated

    def rotate(db) -> tuple[int, int, int, tuple[int, int]]:
        changed = unreadable = 0
        for row in db.query("SELECT * FROM links"):
            pk = (row["team_id"], row["kind"], row["owner"])
            try:
                updates = {
                    name: keys.rotate(row[name].encode()).decode()
                    for name in ("access_token", "refresh_token")
                }
            except InvalidToken:
                unreadable += 1
                continue
            db["links"].update(pk, updates)
            changed += 1
        installed = Installations(Fernet(new_key.encode())).reseal(db, keys)
        return changed, unreadable, rotate_parked(db), installed

    store = Store(url)
    try:
        changed, unreadable, parked, (workspaces, lost) = store.call(rotate)
    finally:
        store.close()
    say(f"re-encrypted {changed} linked account(s) with the new key")
    if parked:
        say(f"re-encrypted {parked} link(s) still waiting on their confirm page")
    if workspaces:
        say(f"re-encrypted the Slack tokens of {workspaces} installed workspace(s)")
    if lost:
        say(
            f"{lost} workspace(s)' Slack tokens could be read with neither key; add the app "
            "to them again (/slack/install)"
        )
        unreadable += lost
    if unreadable:
        say(
            f"{unreadable} linked account(s) could be read with neither key; "
            "their owners will be asked to reconnect"
        )
    return unreadable
