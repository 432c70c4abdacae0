"""The one exception type that the `engage` command turns into a one-line message and exit code 2."""


class EngageError(Exception):
    """A problem with the user's input or environment, worded for the user."""
