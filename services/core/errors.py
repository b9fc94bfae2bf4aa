"""Domain errors raised by services; the HTTP and CLI layers translate them."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask_babel import gettext


class DomainError(Exception):
    """Base class for every error a service raises on purpose."""


class InvalidInput(DomainError):
    """A value a person typed is not acceptable; `field` names the form field. `errors`
    holds every refusal of the same submission, this one first, so a form shows them all
    at once rather than one per submit."""

    def __init__(self, field: str, message: str, *, more: tuple["InvalidInput", ...] = ()):
        super().__init__(message)
        self.field = field
        self.message = message
        self.errors: tuple[InvalidInput, ...] = (self, *more)


T = TypeVar("T")


class Refusals:
    """Collects the refusals of several checks of one form, then raises them together."""

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def check(self, clean: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """clean(*args, **kwargs), or None with its refusal kept."""
        try:
            return clean(*args, **kwargs)
        except InvalidInput as error:
            self.found.extend(error.errors)
            return None

    def raise_any(self) -> None:
        if self.found:
            first, *more = self.found
            raise InvalidInput(first.field, first.message, more=tuple(more))


class NotFound(DomainError):
    pass


class InvalidToken(DomainError):
    """A link's token was tampered with, is for another purpose, or is stale."""


class ExpiredToken(InvalidToken):
    pass


class Forbidden(DomainError):
    """The acting staff member's role does not allow this."""


class SignInFailed(DomainError):
    """Wrong email or password, or a locked or inactive account: deliberately one error."""


class SignupsClosed(DomainError):
    """There is no mailing list to sign up to: staff have removed every list."""

    def __init__(self, message: str | None = None):
        super().__init__(message or gettext("Sign-ups are closed at the moment. Please try again later."))


class Closed(DomainError):
    """The thing exists but no longer allows this, e.g. confirming for a cohort that has started."""
