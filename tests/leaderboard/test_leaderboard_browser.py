"""The rendered site in headless Chromium: sorting, navigation, console errors, broken links and images.

Chromium and chromedriver come from Debian (``scripts/ensure_chromium.sh`` installs them when missing);
the test is skipped, saying why, only when they still cannot be found after that script ran.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from benchmark.leaderboard import render_site
from benchmark.metrics.spec import get_metric

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is not installed (see requirements.txt)"
)
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402  (after the importorskip)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser_binaries() -> tuple[str, str]:
    """Paths of chromium and chromedriver, installing them with the project's script when missing."""
    if not (_find("chromium", "chromium-browser") and _find("chromedriver")):
        subprocess.run(["bash", str(REPO / "scripts" / "ensure_chromium.sh")], check=False, timeout=900)
    chrome, driver = _find("chromium", "chromium-browser"), _find("chromedriver")
    if not (chrome and driver):
        pytest.skip(
            "chromium/chromedriver not found after scripts/ensure_chromium.sh "
            "(needs root and apt-get; install Debian's chromium and chromium-driver)"
        )
    return chrome, driver


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def served_site(fake_results: Path, tmp_path: Path) -> Iterator[str]:
    """The rendered fake site served on 127.0.0.1 at an ephemeral port; yields its base URL."""
    site = render_site(fake_results, tmp_path / "site", date="2025-01-01 00:00 UTC")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def driver(browser_binaries, tmp_path: Path):
    chrome, chromedriver = browser_binaries
    options = webdriver.ChromeOptions()
    options.binary_location = chrome
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chrome-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.common.exceptions import SessionNotCreatedException

    for attempt in range(3):  # on a loaded 2-core machine Chromium sometimes exits while starting
        try:
            drv = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
            break
        except SessionNotCreatedException:
            if attempt == 2:
                raise
            time.sleep(2)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()


def _console_errors(drv) -> list[str]:
    return [
        f"{e['level']}: {e['message']}" for e in drv.get_log("browser") if e["level"] in ("SEVERE", "ERROR")
    ]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _check_page(drv, base: str) -> None:
    """Every local href/src answers 200, every image decoded, every same-page anchor exists, no alert."""
    with pytest.raises(NoAlertPresentException):
        drv.switch_to.alert  # noqa: B018  (a hostile name that ran script would have raised one)
    refs = drv.execute_script(
        "return Array.from(document.querySelectorAll('[href],[src]')).map(e => "
        "[e.tagName, e.getAttribute('href') || e.getAttribute('src'), e.href || e.src, e.className || '']);"
    )
    assert refs, drv.current_url
    for tag, raw, absolute, cls in refs:
        if not absolute.startswith(base):
            assert tag == "A" and "external" in cls and urlsplit(absolute).scheme in ("http", "https"), (
                f"{drv.current_url}: {tag} {raw} leaves the site"
            )
            continue
        url, fragment = urldefrag(absolute)
        assert _status(url) == 200, f"{drv.current_url}: {tag} {raw} -> HTTP {_status(url)}"
        if fragment and url == urldefrag(drv.current_url)[0]:
            assert drv.find_elements(By.ID, fragment), f"{drv.current_url}: no element #{fragment}"
    broken = drv.execute_script(
        "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);"
    )
    assert broken == [], f"{drv.current_url}: images that did not load: {broken}"


def _column(drv, table_id: str, metric: str) -> list[float | None]:
    values = drv.execute_script(
        "const t = document.getElementById(arguments[0]);"
        "const th = t.querySelector('thead th[data-metric=\"' + arguments[1] + '\"]');"
        "return Array.from(t.tBodies[0].rows).map(r => r.cells[th.cellIndex].getAttribute('data-sort'));",
        table_id,
        metric,
    )
    return [float(v) if v else None for v in values]


def test_site_sorts_navigates_and_has_no_errors_or_broken_links(driver, served_site):
    base = served_site
    driver.get(base + "index.html")
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert "leaderboard" in driver.title.lower()
    _check_page(driver, base)
    assert _console_errors(driver) == []

    rows = driver.find_elements(By.CSS_SELECTOR, "#board tbody tr")
    assert [r.get_attribute("data-name") for r in rows] == ["integrated_gradients", "lime", "hostile"]

    for metric in ("insertion", "clip_iou"):
        direction = get_metric(metric).direction
        header = driver.find_element(By.CSS_SELECTOR, f'#board thead th[data-metric="{metric}"]')
        header.find_element(By.TAG_NAME, "button").click()
        values = _column(driver, "board", metric)
        best_first = sorted(values, reverse=direction == "higher")
        assert values == best_first, (metric, values)
        assert header.get_attribute("aria-sort") == ("descending" if direction == "higher" else "ascending")
        header.find_element(By.TAG_NAME, "button").click()
        assert _column(driver, "board", metric) == best_first[::-1]
        assert header.get_attribute("aria-sort") == ("ascending" if direction == "higher" else "descending")
        others = driver.find_elements(By.CSS_SELECTOR, "#board thead th[aria-sort]")
        assert len(others) == 1

    link = driver.find_element(By.CSS_SELECTOR, '#board tr[data-name="hostile"] th a')
    assert link.text == "<script>alert(1)</script>"  # shown as text, never run
    link.click()
    WebDriverWait(driver, 10).until(EC.url_contains("submissions/hostile.html"))
    assert driver.find_element(By.TAG_NAME, "h1").text == "<script>alert(1)</script>"
    _check_page(driver, base)
    driver.find_element(By.CSS_SELECTOR, '#per-clip thead th[data-metric="deletion"] button').click()
    values = _column(driver, "per-clip", "deletion")
    assert len(values) == 8 and values == sorted(values, reverse=get_metric("deletion").direction == "higher")
    assert _console_errors(driver) == []

    driver.get(base + "submissions/broken.html")
    assert "timeout" in driver.find_element(By.CSS_SELECTOR, "section.failure").text
    _check_page(driver, base)
    errors = _console_errors(driver)
    assert errors == [], errors
