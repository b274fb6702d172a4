"""Problems are values: where (file, line, field path), which rule, what is wrong.

Stages collect problems instead of printing; the CLI formats them. A stage that cannot go on
raises :class:`CmpError` carrying every problem found so far.
"""

from __future__ import annotations

from dataclasses import field

from .lazydataclass import dataclass
from .safetext import visible

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Problem:
    """One finding about the inputs, located as precisely as the input allows."""

    message: str
    file: str | None = None
    line: int | None = None
    path: str | None = None
    rule: str | None = None
    level: str = ERROR
    column: int | None = None      # 1-based, where the input pins it (YAML syntax errors)

    def where(self) -> str:
        """``file:line[:column]`` (or ``file``, or empty) for the start of a message."""
        if self.file and self.line:
            return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        return self.file or ""

    def format(self) -> str:
        """``file:line: path: message`` with the parts that are known, on one line: controls,
        line breaks and bidi overrides from the content are shown escaped (:mod:`cmp.safetext`)."""
        parts = [p for p in (self.where(), self.path) if p]
        prefix = "".join(f"{p}: " for p in parts)
        tag = "" if self.level == ERROR else f"{self.level}: "
        return visible(f"{prefix}{tag}{self.message}")

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Problems:
    """An accumulator: ``problems.add(...)`` while working, ``raise_if_errors()`` at a stage's end."""

    items: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.items.append(problem)

    def extend(self, problems) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.level != ERROR]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise CmpError(self.errors, warnings=self.warnings)


class CmpError(Exception):
    """A render cannot produce output; carries every error found (and the warnings so far)."""

    exit_code = 1

    def __init__(self, problems: list[Problem] | Problem | str, warnings: list[Problem] | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        self.warnings = list(warnings or [])
        super().__init__("\n".join(p.format() for p in self.problems))


class UsageError(CmpError):
    """Wrong settings or arguments (exit code 2)."""

    exit_code = 2


class ToolError(CmpError):
    """An external tool (kustomize, git) failed; the message carries its own stderr."""
