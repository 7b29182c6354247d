"""Audience uploads: reading spreadsheets, validating rows, duplicates, summary, export.

Pure: everything here works on bytes chunks or text handed in, and returns
values. :class:`~herald.domain.audience.pipeline.AudienceCheck` ties the
steps together; services run it and store what it finds.
"""
