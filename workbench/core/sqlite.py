"""SQLite helpers shared by the store and the generation cache."""

from __future__ import annotations

import random
import sqlite3
import time


def ensure_wal(con, *, wait_s: float = 60.0) -> None:
    """Put the database file in WAL mode (a property of the file, kept once set).

    Switching needs a lock that SQLite may refuse at once, without its busy wait, while
    another process opens the same new file; so read the mode first and retry the switch.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            cur = con.cursor()
            try:
                if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                    cur.execute("PRAGMA journal_mode=WAL")
            finally:
                cur.close()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05 + 0.1 * random.random())
