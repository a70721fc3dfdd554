"""reports/index.html as a reader gets it, in a real browser (headless Debian Chromium driven by Playwright):
every claim renders, the console shows no error, the page asks for nothing over any network, and the page's
own filters (lesson, verdict, marker, free text) show exactly the claims they should. Checked on a fixture
project rendered by the report stage, and on this clone's own reports/ when a run has left verdicts there
(which also measures the page's size and how fast it becomes usable: reports/index.browser.json).

Not run, with the reason, only when Chromium or Playwright cannot start (`.ci/run` installs `chromium`)."""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from impl import paths
from impl.atomic import atomic_write_text
from impl.harness import results
from impl.harness.report import __main__ as report_stage
from impl.harness.verdicts import VERDICTS, worst
from tests.harness.report_suite import write_suite

VIEWPORT = {"width": 1280, "height": 1000}
FIELDS = ("lesson", "verdict", "marker")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; skips (not run) with the reason when it cannot start."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no `chromium` on PATH (apt-get install chromium; .ci/run installs it when absent)")
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:  # pinned in requirements.lock; absent only in a broken venv
        pytest.skip(f"playwright cannot be imported: {exc}")
    try:
        driver = sync_playwright().start()
    except Exception as exc:  # noqa: BLE001 - any failure of the driver to start is "cannot start"
        pytest.skip(f"playwright's driver cannot start: {type(exc).__name__}: {exc}")
    try:
        launched = driver.chromium.launch(executable_path=chromium)
    except Error as exc:
        driver.stop()
        pytest.skip(f"{chromium} cannot start under playwright: {str(exc).splitlines()[0]}")
    yield launched
    launched.close()
    driver.stop()


@dataclass
class Visit:
    """An opened page and everything it did while loading and being used."""

    page: Any
    url: str
    load_s: float
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every URL asked for other than the page and data: URIs


def open_page(browser, html: Path) -> Visit:
    """Open `html` in a fresh context that refuses (and records) every request but the page itself."""
    url = html.resolve().as_uri()
    context = browser.new_context(viewport=VIEWPORT)
    visit = Visit(page=None, url=url, load_s=0.0)

    def route(request_route):
        if request_route.request.url == url:
            request_route.continue_()
        else:
            request_route.abort()

    def requested(request):
        if request.url != url and not request.url.startswith("data:"):
            visit.requests.append(request.url)

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda message: visit.errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda exc: visit.errors.append(f"pageerror: {exc}"))
    page.on("request", requested)
    began = time.perf_counter()
    page.goto(url, wait_until="load")
    visit.load_s = time.perf_counter() - began
    visit.page = page
    return visit


def expected_claims(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the filters should see per claim id, from the records alone: lesson, worst verdict, and the
    markers of the claim's first record (by key, as the page takes them)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(records):
        groups.setdefault(records[key]["id"], []).append(records[key])
    return {claim_id: {"lesson": group[0]["lesson_folder"], "verdict": worst(r["verdict"] for r in group),
                       "marker": set(group[0].get("markers") or [])} for claim_id, group in groups.items()}


def shown(page) -> set[str]:
    """Ids of the claim sections the reader can see (not hidden themselves nor inside a hidden lesson)."""
    return set(page.eval_on_selector_all("section.claim", "els => els.filter(e => e.checkVisibility()).map(e => e.id)"))


def options(page, name: str) -> list[str]:
    return page.eval_on_selector_all(f"#f-{name} option", "els => els.map(e => e.value).filter(Boolean)")


def assert_filter_shows(page, expected: set[str], total: int, what: str) -> None:
    assert shown(page) == expected, what
    assert page.inner_text("#f-count") == f"{len(expected)} of {total} claims shown", what


def check_page(visit: Visit, records: dict[str, dict[str, Any]], text_query: str, text_expected: set[str] | None):
    """Every claim rendered once, no error, no request; each option of each filter shows exactly its claims.

    `text_expected`: the claims the free-text filter must show for `text_query`; None: those whose section
    text contains it (read from the page, independently of its script)."""
    page, claims = visit.page, expected_claims(records)
    total = len(claims)
    ids = page.eval_on_selector_all("section.claim", "els => els.map(e => e.id)")
    assert len(ids) == total and set(ids) == set(claims), "every claim renders exactly once"
    assert_filter_shows(page, set(claims), total, "nothing filtered on opening")
    narrowed = {}
    for name in FIELDS:
        offered = options(page, name)
        wanted = set(VERDICTS) if name == "verdict" else {
            value for claim in claims.values() for value in (claim[name] if name == "marker" else [claim[name]])}
        assert set(offered) == wanted, f"the {name} filter offers {offered}"
        narrowed[name] = 0
        for value in offered:
            page.select_option(f"#f-{name}", value)
            expected = {claim_id for claim_id, claim in claims.items()
                        if (value in claim[name] if name == "marker" else claim[name] == value)}
            assert_filter_shows(page, expected, total, f"{name} = {value}")
            narrowed[name] += len(expected) < total
        page.select_option(f"#f-{name}", "")
        assert_filter_shows(page, set(claims), total, f"{name} filter cleared")
    assert all(narrowed.values()), f"each filter narrows the page for some value: {narrowed}"
    page.fill("#f-text", text_query)
    if text_expected is None:
        text_expected = set(page.eval_on_selector_all(
            "section.claim", "(els, q) => els.filter(e => e.textContent.toLowerCase().includes(q)).map(e => e.id)",
            text_query.lower()))
    assert text_expected and shown(page) == text_expected, f"free text {text_query!r}"
    page.fill("#f-text", "")
    assert_filter_shows(page, set(claims), total, "free text cleared")
    assert visit.errors == [], visit.errors
    assert visit.requests == [], f"the page asked for {visit.requests}"


def render_fixture(root: Path, monkeypatch) -> dict[str, dict[str, Any]]:
    """The fixture project under `root`, rendered by the report stage's own entry point."""
    records = write_suite(root)
    reports = root / "reports"
    for name, value in {"ROOT": root, "REPORTS_DIR": reports, "RESULTS_DIR": reports / "results",
                        "HISTORY_FILE": reports / "history.jsonl", "RUNS_FILE": reports / "runs.jsonl"}.items():
        monkeypatch.setattr(paths, name, value)
    assert report_stage.main([]) == 0
    return records


def test_the_fixture_report_renders_filters_and_stays_offline_in_chromium(browser, tmp_path, monkeypatch):
    records = render_fixture(tmp_path, monkeypatch)
    visit = open_page(browser, tmp_path / "reports" / "index.html")
    check_page(visit, records, "EIGENVALUE", {"L1.x.z"})
    page = visit.page
    page.select_option("#f-lesson", "l1_linalg")
    page.select_option("#f-verdict", "refuted")
    assert_filter_shows(page, {"L1.x.z", "L1.x.p"}, 7, "lesson and verdict together")
    assert page.eval_on_selector("#l2_stats", "e => e.hidden"), "a lesson with no claim shown is hidden"
    page.evaluate("location.hash = '#L2.s.err'")  # a link to a claim the filters hide clears them
    page.wait_for_function("document.getElementById('L2.s.err').checkVisibility()")
    assert_filter_shows(page, set(expected_claims(records)), 7, "following a link to a hidden claim")
    assert page.inner_text("#L1\\.x\\.p blockquote").count('<script>alert("x")</script>') == 1, "shown as text"
    assert visit.errors == [] and visit.requests == []
    page.screenshot(path=str(tmp_path / "reports" / "index.png"), full_page=True)
    assert (tmp_path / "reports" / "index.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_page_reports_a_console_error_and_a_request(browser, tmp_path):
    """The checks above can fail: a page with a broken script and an image from the network is caught."""
    page = tmp_path / "index.html"
    page.write_text('<!doctype html><img src="https://example.invalid/x.png"><script>undefinedName()</script>',
                    encoding="utf-8")
    visit = open_page(browser, page)
    assert any("undefinedName" in error for error in visit.errors), visit.errors
    assert visit.requests == ["https://example.invalid/x.png"]


def measure(visit: Visit) -> dict[str, float]:
    """Milliseconds until DOMContentLoaded and load, and until the first verdict and free-text filter
    have been applied and the next frame drawn (the first free-text search reads every claim's text)."""
    timing = visit.page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {dom_content_loaded_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd}; }""")
    for name, field_id, value, event in (("first_verdict_filter_ms", "f-verdict", "refuted", "change"),
                                         ("first_text_filter_ms", "f-text", "course", "input")):
        timing[name] = visit.page.evaluate("""async ([id, value, event]) => {
            const f = document.getElementById(id), t0 = performance.now();
            f.value = value; f.dispatchEvent(new Event(event));
            await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
            const took = performance.now() - t0; f.value = ''; f.dispatchEvent(new Event(event)); return took; }""",
                                           [field_id, value, event])
    return {name: round(ms, 1) for name, ms in timing.items()}


def test_this_clones_report_in_chromium(browser):
    """The real reports/index.html (re-rendered first when older than the verdicts); leaves reports/index.png
    (the page as it opens) and reports/index.browser.json (size and timings)."""
    records = results.load()
    if not records:
        pytest.skip(f"no verdicts in {paths.RESULTS_DIR} yet (run `make test` first)")
    assert report_stage.main(["--if-stale"]) == 0
    html = paths.REPORTS_DIR / "index.html"
    visit = open_page(browser, html)
    visit.page.screenshot(path=str(paths.REPORTS_DIR / "index.png"))  # the first screen, as it opens
    timings = measure(visit)
    middle = sorted(records)[len(records) // 2]
    check_page(visit, records, records[middle]["id"], None)
    facts = {"page_bytes": html.stat().st_size, "claims": len(expected_claims(records)),
             "goto_until_load_s": round(visit.load_s, 3), **timings, "browser": visit.page.context.browser.version}
    atomic_write_text(paths.REPORTS_DIR / "index.browser.json", json.dumps(facts, indent=1) + "\n")
    assert visit.errors == [] and visit.requests == []
