"""Errors the services raise and the web layer turns into pages (422, 403, 404, 409)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CodesignError(Exception):
    """Base class: the message is written for the person who caused it."""


class ValidationFailed(CodesignError):
    """Input was refused; `errors` maps each field to a plain-English reason. Nothing was saved."""

    def __init__(self, errors: Mapping[str, str], values: Mapping[str, object] | None = None) -> None:
        self.errors = dict(errors)
        self.values = dict(values or {})
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class NotFound(CodesignError):
    pass


class Forbidden(CodesignError):
    pass


class Conflict(CodesignError):
    """The action does not fit the current state (a closed session, a frozen version...)."""


class RateLimited(CodesignError):
    pass


class TamperingDetected(CodesignError):
    """Something stored no longer matches its SHA-256 or the one in the audit log: nothing is served."""

    def __init__(self, problems: Sequence[object]) -> None:
        self.problems = [str(p) for p in problems]
        super().__init__("; ".join(self.problems))


class LeftSession(Forbidden):
    """This device's participant was removed from the session by the facilitator, or merged into
    another participant (the same person joined twice): the device can no longer take part as them."""

    def __init__(self, message: str, join_code: str) -> None:
        self.join_code = join_code
        super().__init__(message)
