"""Audience use cases shared by the CLI, the API and the campaign builder.

* :func:`check_audience` reads and validates a file without storing anything;
* :func:`import_audience` stores it as a new audience (never touching older
  ones: re-importing a file gives a second audience);
* :func:`create_audience` and :func:`add_contact` build an audience by hand,
  with the same validation, duplicates included;
* :func:`copy_audience` gives a campaign its own copy to work on;
* :func:`audience_csv` / :func:`export_audience` export it, formula-safe.

Large files are validated in worker processes (``workers``; 0 means one per
CPU core) while this process reads, finds duplicates and writes. Workers are
spawned, so a script that calls these with ``workers`` other than 1 must run
under ``if __name__ == "__main__":`` (servers and the ``herald`` command do).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine

from herald.clock import Clock
from herald.domain.audience.columns import ColumnMapping
from herald.domain.audience.export import csv_chunks, export_header, export_row
from herald.domain.audience.pipeline import AudienceCheck
from herald.domain.audience.problems import Problem
from herald.domain.audience.summary import AudienceSummary
from herald.domain.ids import AudienceId
from herald.errors import UnreadableFileError
from herald.services.audience_preparation import RowTarget, prepare_batch
from herald.services.audience_quick_add import (
    QuickAddResult,
    add_contact,
    checked_name,
    create_audience,
)
from herald.services.audience_writer import AudienceWriter
from herald.services.batch_map import ProcessMap
from herald.store import audiences as store
from herald.store.audiences import (
    AudienceRecord,
    AudienceStatus,
    ContactRecord,
    NewAudience,
    ProblemRecord,
)
from herald.store.bulk import uses_copy

Source = str | os.PathLike[str] | BinaryIO
"""A path, or an open binary stream (e.g. an uploaded file)."""
ProgressCallback = Callable[[int], None]
"""Called with the number of bytes read so far."""

__all__ = [
    "AudienceReport",
    "ImportedAudience",
    "QuickAddResult",
    "add_contact",
    "audience_csv",
    "check_audience",
    "copy_audience",
    "create_audience",
    "export_audience",
    "get_audience",
    "import_audience",
    "list_audiences",
    "list_contacts",
    "list_problems",
]

READ_BYTES = 1 << 20
EXPORT_PAGE_ROWS = 5000


@dataclass(frozen=True)
class AudienceReport:
    """The result of :func:`check_audience`: summary plus every flagged problem,
    file-level ones first, then by row."""

    summary: AudienceSummary
    problems: tuple[Problem, ...]
    mapping: ColumnMapping
    encoding: str
    delimiter: str

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary.as_dict(),
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "columns": self.mapping.as_dict(),
            "problems": [problem.as_dict() for problem in self.problems],
        }


@dataclass(frozen=True)
class ImportedAudience:
    audience: AudienceRecord
    summary: AudienceSummary


def check_audience(
    source: Source,
    default_region: str,
    *,
    workers: int = 1,
    on_progress: ProgressCallback | None = None,
) -> AudienceReport:
    """Validate a file. Raises UnreadableFileError, or ValidationError for a header
    without a phone or email column (or an unknown region)."""
    with _opened(source) as (stream, _name):
        check = _start(stream, default_region, workers, on_progress)
        problems = list(check.mapping.notes)
        for outcome in check.outcomes():
            problems.extend(outcome.problems)
        problems.extend(check.encoding_problems())
        return AudienceReport(
            check.summary(),
            tuple(problems),
            check.mapping,
            check.reader.encoding,
            check.reader.delimiter,
        )


def import_audience(
    engine: Engine,
    source: Source,
    *,
    name: str,
    clock: Clock,
    default_region: str,
    filename: str | None = None,
    workers: int = 1,
    on_progress: ProgressCallback | None = None,
) -> ImportedAudience:
    """Store a file as a new audience; ``filename`` overrides the name taken from
    ``source`` (uploads).

    Rows are committed in batches while the audience is ``importing`` (see
    :class:`~herald.store.audiences.AudienceStatus`); it becomes ``ready`` with
    its summary. If the file turns out unreadable part way, or anything else
    fails, what was written is removed again: all of the file or nothing.
    """
    name = checked_name(name)
    with _opened(source) as (stream, source_name):
        check = _start(stream, default_region, workers, on_progress)
        now = clock.now()
        with engine.begin() as connection:
            audience_id = store.create_audience(
                connection,
                NewAudience(
                    name=name,
                    source_filename=filename or source_name,
                    uploaded_at=now,
                    created_at=now,
                    encoding=check.reader.encoding,
                    delimiter=check.reader.delimiter,
                    default_region=check.plan.default_region,
                    header=list(check.mapping.header),
                    column_mapping=check.mapping.as_dict(),
                    summary={},
                    status=AudienceStatus.IMPORTING,
                ),
            )
        try:
            summary = _write(engine, audience_id, check)
        except BaseException:
            with engine.begin() as connection:
                store.delete_audience(connection, audience_id)
            raise
    return ImportedAudience(get_audience(engine, audience_id), summary)


def _write(engine: Engine, audience_id: AudienceId, check: AudienceCheck) -> AudienceSummary:
    """The workers validate and also put each row in stored form (see
    :mod:`~herald.services.audience_preparation`); this process settles
    duplicates and streams the rows to the database."""
    target = RowTarget(audience_id, as_copy_text=uses_copy(engine))
    prepare = functools.partial(prepare_batch, check.plan, target)
    with AudienceWriter(engine, target) as writer:
        writer.add_problems(check.mapping.notes)
        for settled in check.settled_batches(prepare):
            writer.add(settled)
        writer.add_problems(check.encoding_problems())
        writer.flush()
    summary = check.summary()
    with engine.begin() as connection:
        store.save_summary(connection, audience_id, summary.as_dict(), AudienceStatus.READY)
    return summary


def list_audiences(engine: Engine) -> list[AudienceRecord]:
    """Every audience, newest first."""
    with engine.connect() as connection:
        return store.list_audiences(connection)


def get_audience(engine: Engine, audience_id: int) -> AudienceRecord:
    """Raises NotFoundError."""
    with engine.connect() as connection:
        return store.get_audience(connection, audience_id)


def list_contacts(
    engine: Engine, audience_id: int, *, after_row: int = 0, limit: int = 100
) -> list[ContactRecord]:
    """A page of contacts in row order; pass the last row number to get the next page."""
    with engine.connect() as connection:
        store.get_audience(connection, audience_id)
        return store.page_contacts(connection, audience_id, after_row=after_row, limit=limit)


def list_problems(
    engine: Engine, audience_id: int, *, after_id: int = 0, limit: int = 100
) -> list[ProblemRecord]:
    """A page of flagged problems; pass the last problem's id to get the next page."""
    with engine.connect() as connection:
        store.get_audience(connection, audience_id)
        return store.page_problems(connection, audience_id, after_id=after_id, limit=limit)


def copy_audience(engine: Engine, audience_id: int, *, name: str, clock: Clock) -> AudienceRecord:
    """A new audience with the same contacts, excluded rows and problems.

    The copy keeps the source's file name and upload time (where its data came
    from) and records ``copied_from_id``; later changes to either do not reach
    the other.
    """
    name = checked_name(name)
    with engine.begin() as connection:
        source = store.get_ready_audience(connection, audience_id)
        copy_id = store.create_audience(
            connection,
            NewAudience(
                name=name,
                source_filename=source.source_filename,
                uploaded_at=source.uploaded_at,
                created_at=clock.now(),
                encoding=source.encoding,
                delimiter=source.delimiter,
                default_region=source.default_region,
                header=source.header,
                column_mapping=source.column_mapping,
                summary=source.summary,
                copied_from_id=source.id,
            ),
        )
        store.copy_audience_rows(connection, source.id, copy_id)
        return store.get_audience(connection, copy_id)


def audience_csv(engine: Engine, audience_id: int) -> Iterator[bytes]:
    """The audience as CSV bytes, streamed page by page (see
    :mod:`herald.domain.audience.export`). Raises NotFoundError, or ConflictError
    for an audience still being imported, at once."""
    with engine.connect() as connection:
        audience = store.get_ready_audience(connection, audience_id)
    mapping = ColumnMapping.from_dict(audience.header, audience.column_mapping)
    return _csv_bytes(engine, audience.id, mapping)


def export_audience(engine: Engine, audience_id: int, target: Source) -> None:
    """Write :func:`audience_csv` to a path or a binary stream."""
    chunks = audience_csv(engine, audience_id)
    if isinstance(target, str | os.PathLike):
        with Path(target).open("wb") as stream:
            stream.writelines(chunks)
    else:
        target.writelines(chunks)


def _csv_bytes(engine: Engine, audience_id: int, mapping: ColumnMapping) -> Iterator[bytes]:
    variables = mapping.variables

    def rows() -> Iterator[list[str]]:
        after = 0
        while page := list_contacts(engine, audience_id, after_row=after, limit=EXPORT_PAGE_ROWS):
            for contact in page:
                values = (contact.fields.get(variable, "") for variable in variables)
                yield export_row(contact.phone, contact.email, values)
            after = page[-1].row_number

    for text in csv_chunks(export_header(mapping.custom_fields), rows()):
        yield text.encode("utf-8")


def _start(
    stream: BinaryIO, region: str, workers: int, on_progress: ProgressCallback | None
) -> AudienceCheck:
    return AudienceCheck(
        _chunks(stream, on_progress),
        default_region=region,
        map_batches=ProcessMap(workers),
        size_hint=_size(stream),
    )


def _size(stream: BinaryIO) -> int | None:
    """Bytes left to read, when the stream is a file (uploads may not be)."""
    try:
        return os.fstat(stream.fileno()).st_size - stream.tell()
    except (OSError, AttributeError, ValueError):
        return None


def _chunks(stream: BinaryIO, on_progress: ProgressCallback | None) -> Iterator[bytes]:
    done = 0
    while chunk := stream.read(READ_BYTES):
        done += len(chunk)
        if on_progress is not None:
            on_progress(done)
        yield chunk


@contextmanager
def _opened(source: Source) -> Iterator[tuple[BinaryIO, str | None]]:
    """(binary stream, file name) for a path or a stream."""
    if not isinstance(source, str | os.PathLike):
        name = getattr(source, "name", None)
        yield source, Path(name).name if isinstance(name, str) else None
        return
    path = Path(source)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise UnreadableFileError(f"Cannot open {path}: {exc.strerror}.", field="file") from exc
    with stream:
        yield stream, path.name
