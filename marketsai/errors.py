"""The one exception type users see for bad input.

Why: a person editing a YAML file needs the file, the field path, the bad value and
what is allowed -- never a KeyError or a numba typing error from deep inside.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class SpecError(ValueError):
    """An economy or experiment description is invalid.

    Examples
    --------
    >>> err = SpecError("must be > 0", path="markets[0].params.mu", value=-1.0,
    ...                 allowed="a positive number", file="duopoly.yaml")
    >>> print(err)
    duopoly.yaml: markets[0].params.mu = -1.0: must be > 0 (allowed: a positive number)
    """

    def __init__(self, message: str, *, path: str = "", value: Any = _MISSING,
                 allowed: str | None = None, file: str | None = None):
        self.reason = message
        self.path = path
        self.value = None if value is _MISSING else value
        self.has_value = value is not _MISSING
        self.allowed = allowed
        self.file = str(file) if file is not None else None
        super().__init__(self._format())

    def _format(self) -> str:
        where = self.path or "<root>"
        if self.has_value:
            where += f" = {self.value!r}"
        text = f"{where}: {self.reason}"
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        if self.file:
            text = f"{self.file}: {text}"
        return text

    def with_file(self, file) -> SpecError:
        """The same error, naming the file it came from."""
        kwargs = dict(path=self.path, allowed=self.allowed, file=file)
        if self.has_value:
            kwargs["value"] = self.value
        return SpecError(self.reason, **kwargs)

    def under(self, prefix: str) -> SpecError:
        """The same error with ``prefix`` prepended to its field path."""
        path = prefix + ("." + self.path if self.path and not self.path.startswith("[") else self.path)
        kwargs = dict(path=path, allowed=self.allowed, file=self.file)
        if self.has_value:
            kwargs["value"] = self.value
        return SpecError(self.reason, **kwargs)
