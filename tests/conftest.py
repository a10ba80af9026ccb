"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = ROOT / "samples" / "000_aa4cbc5942cc5dc6.txt"


@pytest.fixture(scope="session")
def sample_page() -> Path:
    """The real e-paper page the project is built around."""
    return SAMPLE_PAGE
