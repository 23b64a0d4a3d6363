"""The library's user-facing error type."""


class ConfigError(ValueError):
    """A problem with the user's input that they can fix; the message says what was wrong and how."""


class TrainingDiverged(ConfigError):
    """A run's loss, penalty or parameters became non-finite; the run stopped before saving that state.
    The message names the step, the term and the settings that usually fix it."""
