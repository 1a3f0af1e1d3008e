"""Importers that bring another blog's posts, pages and comments into content/.

`wordpress` runs the import; `wxr` reads the export file, `html_to_markdown` turns
WordPress's HTML into Markdown, `files` moves the result into content/ without overwriting
the author's edits.
"""
