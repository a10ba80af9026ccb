"""The text stage: what a reader sees made ready for a voice.

clean (invisible glyphs, stray spaces), sentences (splitting, cutting long sentences at clause
marks or jieba word boundaries), normalize (numbers, dates, symbols and Latin letters written out
for the offline voice), lexicon (the editors' pronunciation lexicon), words (jieba).
"""
