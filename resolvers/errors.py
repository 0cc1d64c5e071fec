"""Errors resolvers raise for bad arguments; the gateway codes them ``BAD_USER_INPUT``."""

from __future__ import annotations


class InvalidArgument(ValueError):
    """An argument the gateway cannot use; the message names the argument, never its value."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
