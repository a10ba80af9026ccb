# This folder is installed as the package `audio_edition.voices` (see pyproject.toml), so the
# default voice profile and lexicon ship inside the wheel. Edit the .toml files, not this one.
