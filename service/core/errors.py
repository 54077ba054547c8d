"""Errors that carry what the user should read."""

from __future__ import annotations


class FieldErrors(ValueError):
    """A form with bad values: `errors` maps each field to its message.

    The one settings error of every settings page (site, moderation), so each page can show
    every problem beside its field with what was typed kept.
    """

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors
