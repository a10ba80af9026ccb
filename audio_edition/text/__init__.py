"""The text stage: what a reader sees made ready for a voice.

clean (invisible glyphs, stray spaces), sentences (splitting, cutting long sentences at clause
marks or jieba word boundaries), normalize (numbers, dates, symbols and Latin letters written out
for the offline voice), lexicon (the editors' pronunciation lexicon), words (jieba).
"""

import sys


def _import_jieba_without_pkg_resources() -> None:
    """jieba opens its data files through setuptools' pkg_resources when it can import it,
    which costs every command 0.1 s at start (and is deprecated); without it, jieba opens the
    same files from its own folder. So jieba is imported first with pkg_resources hidden."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        return
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import jieba  # noqa: F401
    finally:
        del sys.modules["pkg_resources"]


_import_jieba_without_pkg_resources()
