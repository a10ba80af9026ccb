"""Voice profiles (voices/*.toml): which voice, rate and pitch each role uses per engine,
the pauses between segments, and the stings."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from audio_edition.errors import ConfigError
from audio_edition.model import ENGINES, ROLES, STING_KINDS, Voice

VOICES_PACKAGE = "audio_edition.voices"  # the checkout's voices/ folder, installed in the wheel
PAUSE_LEVELS = ("clause", "sentence", "paragraph", "section", "chapter")


@dataclass(frozen=True)
class Pauses:
    """Silence after a segment in milliseconds, by what follows it (clause: the rest of a
    sentence cut for synthesis at a comma or other clause mark)."""

    clause: int = 250
    sentence: int = 350
    paragraph: int = 750
    section: int = 1100
    chapter: int = 1400

    def __post_init__(self) -> None:
        for level in PAUSE_LEVELS:
            value = getattr(self, level)
            if not isinstance(value, int) or not 0 <= value <= 10_000:
                raise ConfigError(f"pause {level} must be 0..10000 ms, not {value!r}")


@dataclass(frozen=True)
class VoiceProfile:
    """A parsed voice profile."""

    name: str
    voices: Mapping[str, Mapping[str, Voice]]  # engine -> role -> voice
    pauses: Pauses
    stings: Mapping[str, Path | None]  # sting kind -> user audio file, None = built-in chime

    def voice(self, engine: str, role: str) -> Voice:
        try:
            return self.voices[engine][role]
        except KeyError:
            raise ConfigError(
                f"profile {self.name!r} has no {role!r} voice for {engine!r}"
            ) from None


def packaged_voices_file(name: str) -> Path:
    """A file of the voices/ folder that ships with the package (default.toml, lexicon.toml)."""
    return Path(str(resources.files(VOICES_PACKAGE) / name))


def default_profile_path() -> Path:
    """The default voice profile: voices/default.toml, installed with the package."""
    return packaged_voices_file("default.toml")


def load_profile(path: Path | None = None) -> VoiceProfile:
    """Read a voice profile TOML file (the default one when path is None)."""
    path = Path(path) if path else default_profile_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"voice profile {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"voice profile {path} is not valid TOML: {e}") from None
    return parse_profile(data, name=path.stem, base_dir=path.parent)


def parse_profile(data: Mapping[str, Any], name: str, base_dir: Path) -> VoiceProfile:
    """Build a VoiceProfile from parsed TOML; raises ConfigError naming the bad key."""
    try:
        pauses = Pauses(**data.get("pauses", {}))
    except TypeError as e:
        raise ConfigError(f"voice profile {name}: bad [pauses]: {e}") from None
    stings: dict[str, Path | None] = {}
    for kind in STING_KINDS:
        value = data.get("stings", {}).get(kind, "")
        stings[kind] = (base_dir / value) if value else None
    voices: dict[str, Mapping[str, Voice]] = {}
    for engine in ENGINES:
        section = data.get(engine)
        if section is None:
            continue
        default_name = section.get("voice")
        if not default_name:
            raise ConfigError(f"voice profile {name}: [{engine}] needs a voice")
        roles = section.get("roles", {})
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ConfigError(f"voice profile {name}: unknown role(s) {sorted(unknown)}")
        by_role = {}
        for role in ROLES:
            spec = roles.get(role, {})
            try:
                by_role[role] = Voice(
                    engine=engine,
                    name=spec.get("voice", default_name),
                    rate=int(spec.get("rate", 0)),
                    pitch=int(spec.get("pitch", 0)),
                )
            except ValueError as e:
                raise ConfigError(f"voice profile {name}: [{engine}.roles.{role}] {e}") from None
        voices[engine] = MappingProxyType(by_role)
    if not voices:
        raise ConfigError(f"voice profile {name} defines no engine ([offline] or [edge])")
    return VoiceProfile(
        name=name, voices=MappingProxyType(voices), pauses=pauses, stings=MappingProxyType(stings)
    )
