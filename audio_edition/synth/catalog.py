"""The voices each engine offers, for `audio-edition voices` and for choosing a voice profile."""

from __future__ import annotations

from dataclasses import dataclass

from audio_edition.errors import ConfigError, VoiceError


@dataclass(frozen=True)
class VoiceInfo:
    """One voice: its name as a voice profile spells it, and what it is."""

    name: str
    gender: str
    locale: str  # BCP 47, e.g. zh-CN
    categories: tuple[str, ...] = ()  # what the service recommends it for: News, Novel ...
    status: str = "GA"  # GA, Preview or Deprecated

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "gender": self.gender,
            "locale": self.locale,
            "categories": list(self.categories),
            "status": self.status,
        }


def list_voices(engine: str, language: str | None = None) -> list[VoiceInfo]:
    """The voices of `engine`, sorted by locale and name; `language` keeps those whose locale is
    it or under it (zh: zh-CN, zh-TW ...; zh-CN: zh-CN, zh-CN-sichuan ...), case-insensitively."""
    if engine == "offline":
        from audio_edition.synth.offline import VOICE_NAME

        voices = [VoiceInfo(VOICE_NAME, "Female", "zh-CN", ("News",))]
    elif engine == "edge":
        from audio_edition.synth.edge import EdgeEngine

        voices = [
            VoiceInfo(
                name=v["ShortName"],
                gender=v.get("Gender", "?"),
                locale=v.get("Locale", "?"),
                categories=tuple(v.get("VoiceTag", {}).get("ContentCategories", ())),
                status=v.get("Status", "GA"),
            )
            for v in EdgeEngine().voice_list()
        ]
    else:
        raise ConfigError(f"unknown engine {engine!r}: use offline or edge")
    if language:
        wanted = language.lower()
        voices = [
            v
            for v in voices
            if v.locale.lower() == wanted or v.locale.lower().startswith(wanted + "-")
        ]
        if not voices:
            raise VoiceError(
                f"no {engine} voice speaks {language!r}: "
                f"`audio-edition voices --engine {engine}` lists every locale"
            )
    return sorted(voices, key=lambda v: (v.locale, v.name))
