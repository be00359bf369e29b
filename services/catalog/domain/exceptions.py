"""Domain exceptions of the catalog; the service layer maps them to common errors."""


class CatalogError(Exception):
    """Base of every rule the catalog domain refuses."""


class ValidationFailed(CatalogError):
    """Input breaks a rule; ``fields`` names every bad field and why."""

    def __init__(self, fields: dict[str, str], message: str = "invalid input"):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields)

    def __str__(self) -> str:
        details = "; ".join(f"{name}: {reason}" for name, reason in self.fields.items())
        return f"{self.message} ({details})" if details else self.message


class InvalidTransition(CatalogError):
    """The item's current status forbids the requested change."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
