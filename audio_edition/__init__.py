"""audio-edition: newspaper articles as an accessible Mandarin audio edition and podcast feed."""

__version__ = "0.1.0"
