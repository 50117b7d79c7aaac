"""Errors that reach users: one line that names the input and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


class TopicwireError(Exception):
    """A problem with the user's input or configuration.

    Entry points print its message on one line and exit non-zero, without a traceback.
    """


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be used, and where it came from."""

    source: str
    line: int
    reason: str
    unit: str = "line"  # "line" for text files; "row" for CSV and Parquet records

    def __str__(self) -> str:
        if self.unit == "line":
            return f"{self.source}:{self.line}: {self.reason}"
        return f"{self.source}: {self.unit} {self.line}: {self.reason}"


def raise_or_count(bad: BadRecord, policy: str, skipped: list[BadRecord]) -> None:
    """Apply a bad-record policy: 'fail' stops the run, 'skip' counts the record as skipped."""
    if policy == "fail":
        raise TopicwireError(f"{bad} (set on_bad_record: skip to skip and count such records)")
    if policy != "skip":
        raise TopicwireError(f"on_bad_record must be 'fail' or 'skip', got {policy!r}")
    skipped.append(bad)
