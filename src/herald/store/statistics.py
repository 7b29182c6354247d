"""Fresh planner statistics after a bulk write.

PostgreSQL plans a query from each table's statistics, which autovacuum
refreshes only after a while. Right after a launch inserts tens of
thousands of journeys it still believes the campaign has a handful, and
the contact list of the running campaign (``ORDER BY contact_id LIMIT
50``) is planned as "fetch all, sort" instead of a walk of the index:
146 ms instead of 0.2 ms at 50,000 contacts. SQLite's planner does not
depend on such statistics here, so nothing is done there.
"""

from __future__ import annotations

from sqlalchemy import Table, text
from sqlalchemy.orm import Session


def refresh_statistics(session: Session, *tables: Table) -> None:
    """``ANALYZE`` the tables (PostgreSQL), inside the caller's transaction."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        # The names come from Herald's own table objects, never from input.
        session.execute(text(f'ANALYZE "{table.name}"'))
