"""Errors a domain raises to refuse a command; entry points turn them into HTTP answers.
Pure: no I/O, so every service's domain module may import it."""


class DomainError(Exception):
    """A refused command. Nothing is appended when one is raised."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def detail(self) -> dict[str, object]:
        return {"message": self.message}

    def headers(self) -> dict[str, str]:
        """Headers the answer carries besides its body (e.g. Retry-After)."""
        return {}


class NotAllowed(DomainError):
    """The actor's role (or, for a requester, its OPD) does not allow the command: 403."""

    status = 403


class NotFound(DomainError):
    """No such request, user or document: 404."""

    status = 404


class WrongStep(DomainError):
    """The request is not at a step where the command can happen: 409, naming the step."""

    status = 409

    def __init__(self, message: str, current_step: str) -> None:
        super().__init__(message)
        self.current_step = current_step

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "current_step": self.current_step}


class InvalidInput(DomainError):
    """The input is well-formed but breaks a rule about one field: 422, naming the field."""

    status = 422

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field

    def detail(self) -> dict[str, object]:
        return {"message": self.message, "field": self.field}
