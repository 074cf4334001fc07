"""Refusals of domain operations, which the API and the pages turn into 4xx answers.

Operations raise these before changing anything, or the request's transaction is rolled back,
so a refused write changes nothing.
"""

from __future__ import annotations


class DomainError(Exception):
    """An operation was refused; `status` is the HTTP status that tells why."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """The input is well-formed but wrong, field by field: `{"email": ["Already used."]}`."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("The input is not valid.")
        self.errors = errors


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409
