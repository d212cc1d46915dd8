"""A cancel's statements on its way: what is known of the upload (`known`: its announcement or
its followed cancel, one read), then its two writes: the claim with its "started" row, and the
"finished" row with the claim given back (and, for an upload the bot did not announce,
following it begun).

Each write is one statement on PostgreSQL (data-modifying CTEs), in a call `Store.run` sends
without a transaction of its own (`single_write`): with the reads before it, a cancel makes
four round trips there instead of twelve. On SQLite each is the same steps as separate
statements inside the group commit's transaction. Either way the claim is never taken without
the "started" row, nor given back without the "finished" one (and the follow).
"""

from __future__ import annotations

import functools

from storage import announcements, audit, followed, leases
from storage.announcements import Announcement
from storage.audit import AuditFinish, AuditStart
from storage.followed import FollowedCancel
from storage.schema import metadata
from storage.sql import Db, single_write


@functools.cache
def _known_query() -> tuple[str, list[str], list[str]]:
    """The statement of `known`, and the announcement's and the followed cancel's columns,
    in the order it returns them."""
    mine = [c.name for c in metadata.tables[announcements.TABLE].columns]
    theirs = [c.name for c in metadata.tables[followed.TABLE].columns]
    columns = ", ".join([*(f"a.{c}" for c in mine), *(f"f.{c}" for c in theirs)])
    sql = (
        f"SELECT {columns} FROM (SELECT 1 AS one) AS asked "
        f"LEFT JOIN {announcements.TABLE} a ON a.team_id = ? AND a.publish_id = ? "
        f"LEFT JOIN {followed.TABLE} f ON f.team_id = ? AND f.publish_id = ?"
    )
    return sql, mine, theirs


def known(db: Db, team_id: str, publish_id: str) -> Announcement | FollowedCancel | None:
    """What the bot knows of the upload, in one statement: its announcement, else the
    following of its cancel (at most one of the two exists), else None."""
    sql, mine, theirs = _known_query()
    row = db.execute(sql, [team_id, publish_id, team_id, publish_id]).fetchone()
    assert row is not None  # the LEFT JOINs keep the one row asked for
    announced = dict(zip(mine, row[: len(mine)], strict=True))
    if announced["publish_id"] is not None:
        return announcements.from_row(announced)
    follow = dict(zip(theirs, row[len(mine) :], strict=True))
    return None if follow["publish_id"] is None else followed.from_row(follow)


# The upload's cancel is settled: TikTok accepted one (it is followed, or its announcement
# says stopping) or the upload is final. Parameters: team, publish_id, team, publish_id.
SETTLED = (
    f"EXISTS (SELECT 1 FROM {followed.TABLE} WHERE team_id = ? AND publish_id = ?) "
    f"OR EXISTS (SELECT 1 FROM {announcements.TABLE} WHERE team_id = ? AND publish_id = ? "
    "AND (COALESCE(final, 0) <> 0 OR cancel_by <> ''))"
)


def claim_and_start(db: Db, lease: tuple[str, str, float, str], entry: AuditStart) -> int | None:
    """Take the lease (name, holder, seconds, detail) and write the "started" row; the row's
    id, or None when another holder has the lease or the upload's cancel is settled (nothing
    written). One statement on PostgreSQL: the last of a `single_write` call.

    "Settled" is judged in the statement that takes the lease, not only by what `known` read
    before it: on PostgreSQL another replica's cancel can record "stopping" (or begin
    following) and give the lease back between the two, and the lease must not be taken for
    a second TikTok call then. (SQLite's transaction keeps both in one snapshot anyway.)"""
    name, holder, seconds, detail = lease
    settled = [entry.team_id, entry.publish_id] * 2
    if db.dialect != "postgresql":
        taken = leases.take(db, name, holder, seconds, detail, unless=(SETTLED, settled))
        return audit.start(db, entry) if taken else None
    claim = [name, holder, detail, float(seconds), *settled]
    row = audit.started(entry)
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    sql = (
        f"WITH claim AS ({leases.take_statement(db, SETTLED)} RETURNING 1) "
        f"INSERT INTO {audit.TABLE} ({columns}) SELECT {marks} FROM claim RETURNING id"
    )
    found = db.execute(sql, [*claim, *row.values()]).scalar()
    return None if found is None else int(found)


@single_write
def finish_unannounced(
    db: Db,
    audit_id: int,
    finished: AuditFinish,
    lease: tuple[str, str],
    follow: FollowedCancel | None,
) -> bool:
    """The "finished" row, the lease (name, holder) given back, and `follow` begun (TikTok's
    `ok`); True if this call began following it."""
    if db.dialect != "postgresql":
        audit.finish(db, audit_id, finished)
        following = follow is not None and followed.start(db, follow)
        leases.give_back(db, *lease)
        return following
    update, update_params = audit.finishing(audit_id, finished)
    parts = [f"finished AS ({update})", f"released AS ({leases.GIVE_BACK})"]
    params = [*update_params, *lease]
    answer = "SELECT 0"
    if follow is not None:
        row = followed.first_row(follow)
        parts.append(f"follow AS ({db[followed.TABLE].insert_if_absent_sql(row)} RETURNING 1)")
        params.extend(row.values())
        answer = "SELECT count(*) FROM follow"
    return db.execute(f"WITH {', '.join(parts)} {answer}", params).scalar() == 1
