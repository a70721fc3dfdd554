"""Render reports/ from the claim records: one report model (`model.build`), laid out as a
Markdown page per lesson (reports/lessons/) and a self-contained index.html (plots embedded,
no network requests), plus the README's generated tables."""
