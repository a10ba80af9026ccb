"""The one family of errors the library raises; the CLI turns them into one-line messages."""


class AudioEditionError(Exception):
    """Base class: the message says what went wrong and what to do about it."""

    exit_code = 1


class InputError(AudioEditionError):
    """An input file is missing, empty, binary, too large or not a readable edition."""

    exit_code = 2


class ConfigError(AudioEditionError):
    """A publication config or voice profile is invalid."""

    exit_code = 2


class VoiceError(AudioEditionError):
    """A voice does not exist for the chosen engine."""

    exit_code = 2


class SynthesisError(AudioEditionError):
    """Speech could not be synthesised (after retries)."""


class AudioError(AudioEditionError):
    """ffmpeg or the audio mastering failed."""


class PublishError(AudioEditionError):
    """The output directory cannot be written, or is locked by another build."""
