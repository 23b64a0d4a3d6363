"""The library's user-facing error type."""


class ConfigError(ValueError):
    """A problem with the user's input that they can fix; the message says what was wrong and how."""
