"""The rules of the portal: plain functions that take the actor and the time explicitly.

Nothing in here imports a request, a form or a redirect, and nothing here commits: the caller
(a view, a CLI command, an API endpoint) commits once.
"""


class DomainError(Exception):
    """A rule said no. ``message`` is a translatable text for the user; ``field`` names the
    input it is about, when there is one."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
