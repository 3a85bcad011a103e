"""axe-core (npm, from package-lock.json) run inside a page: the WCAG 2.1 A and AA rules.

The script is served to the page from its own origin (a Playwright route), so the app's
Content-Security-Policy (`script-src 'self'`) admits it without being loosened for the test."""
from __future__ import annotations

from tests.conftest import IN_CI, ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ROUTE = "/__axe-core__/axe.min.js"


def axe_violations(page) -> list[str]:
    """Every WCAG 2.1 A/AA violation axe-core finds on the page as it is now, one line per element."""
    if not AXE.exists():
        import pytest
        message = f"{AXE} is missing: run `npm ci` (make setup does)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    origin = page.evaluate("() => location.origin")
    page.route(f"{origin}{ROUTE}", lambda route: route.fulfill(
        status=200, body=AXE.read_bytes(), headers={"Content-Type": "text/javascript; charset=utf-8"}))
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{origin}{ROUTE}")
    results = page.evaluate("""async (tags) => {
        const r = await window.axe.run(document, {runOnly: {type: 'tag', values: tags}});
        return r.violations.map(v => v.nodes.map(n =>
            `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary.replace(/\\n/g, ' ')}`)).flat();
    }""", WCAG_21_AA)
    return [f"{page.url}: {line}" for line in results]


def assert_accessible(page) -> None:
    """The page as it is now passes axe-core's WCAG 2.1 AA rules."""
    found = axe_violations(page)
    assert not found, "axe-core WCAG 2.1 AA violations:\n" + "\n".join(found)
