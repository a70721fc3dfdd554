"""Render reports/ from reports/results.json: a Markdown page per lesson, a self-contained
index.html (plots embedded, no network requests) and the README's generated tables."""
