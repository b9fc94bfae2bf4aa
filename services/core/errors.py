"""Domain errors raised by services; the HTTP and CLI layers translate them."""


class DomainError(Exception):
    """Base class for every error a service raises on purpose."""


class InvalidInput(DomainError):
    """A value a person typed is not acceptable; `field` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


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

    def __init__(self, message: str = "Sign-ups are closed at the moment. Please try again later."):
        super().__init__(message)


class Closed(DomainError):
    """The thing exists but no longer allows this, e.g. confirming for a cohort that has started."""
