"""The rendered site in headless Chromium: sorting, navigation, console errors, broken links and images,
and the layout a researcher sees at desktop and phone widths: no page scrolls sideways, the method names and
the header stay in view while the table scrolls, gallery images open enlarged.

Chromium and chromedriver come from Debian (``scripts/ensure_chromium.sh`` installs them when missing);
the test is skipped, saying why, only when they still cannot be found after that script ran.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
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
FIXTURES = Path(__file__).resolve().parent / "fixtures"
WIDTHS = (1400, 390)
"""Desktop and phone (an iPhone 12-14's CSS width) viewport widths every page must fit."""
os.environ.setdefault("SE_AVOID_STATS", "true")  # selenium's usage statistics: never sent
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # Docker's 64 MB /dev/shm is too small for a renderer; use the temp folder
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


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a browser that drops a connection it no longer needs is not an error of the site


def _serve(site: Path) -> Iterator[str]:
    server = _QuietServer(
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
def served_site(fake_results: Path, tmp_path: Path) -> Iterator[str]:
    """The rendered fake site served on 127.0.0.1 at an ephemeral port; yields its base URL."""
    yield from _serve(render_site(fake_results, tmp_path / "site", date="2025-01-01 00:00 UTC", rank_resamples=100))


@pytest.fixture
def served_board(board_results: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The fuller board (controls, seeds, raw gallery, model card, stability), served; yields (URL, site)."""
    site = render_site(board_results, tmp_path / "board", date="2025-01-01 00:00 UTC", rank_resamples=100,
                       model_card=FIXTURES / "model_card.json", stability=FIXTURES / "stability.json",
                       train_metrics=FIXTURES / "train_metrics.json")
    for url in _serve(site):
        yield url, site


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

    log = tmp_path / "chromedriver.log"
    for attempt in range(3):  # on a loaded 2-core machine Chromium sometimes exits while starting
        service = webdriver.ChromeService(executable_path=chromedriver, service_args=["--verbose"],
                                          log_output=str(log))
        try:
            drv = webdriver.Chrome(options=options, service=service)
            break
        except SessionNotCreatedException as exc:
            if attempt == 2:
                tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no chromedriver log)"
                raise SessionNotCreatedException(
                    f"{exc.msg}\nTMPDIR={os.environ.get('TMPDIR')!r} HOME={os.environ.get('HOME')!r}\n"
                    f"chromedriver log (tail):\n{tail}") from exc
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


def _column(drv, table_id: str, metric: str, body: int = 0) -> list[float | None]:
    """The data-sort values of ``metric`` in the ``body``-th <tbody> of the table, its heading row left out."""
    values = drv.execute_script(
        "const t = document.getElementById(arguments[0]);"
        "const th = t.querySelector('thead th[data-metric=\"' + arguments[1] + '\"]');"
        "return Array.from(t.tBodies[arguments[2]].rows).filter(r => !r.classList.contains('band'))"
        ".map(r => r.cells[th.cellIndex].getAttribute('data-sort'));",
        table_id,
        metric,
        body,
    )
    return [float(v) if v else None for v in values]


def _set_width(drv, width: int, height: int | None = None) -> None:
    """Emulate a viewport ``width`` CSS pixels wide (a phone below 600 px: mobile layout and viewport meta)."""
    height = height or (900 if width >= 600 else 844)
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _overflow(drv) -> dict[str, int]:
    """How wide the page is against the viewport (a mobile viewport widens to its content, so compare with
    the emulated width, not with innerWidth alone)."""
    return drv.execute_script(
        "return {scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
        " inner: window.innerWidth};"
    )


def test_site_sorts_navigates_and_has_no_errors_or_broken_links(driver, served_site):
    base = served_site
    driver.get(base + "index.html")
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert "leaderboard" in driver.title.lower()
    _check_page(driver, base)
    assert _console_errors(driver) == []

    rows = driver.find_elements(By.CSS_SELECTOR, "#board tbody tr[data-name]")
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


def test_no_page_is_wider_than_the_window_at_desktop_and_phone_widths(driver, served_board):
    """Every page at 1400 and 390 px: the document is never wider than the viewport (the issue: 2,166 px at a
    1,400 px window, 1,776 px of blank pan on a phone)."""
    base, site = served_board
    pages = ["index.html", "submit.html"]
    pages += sorted(f"submissions/{p.name}" for p in (site / "submissions").glob("*.html"))
    figures, too_wide = [], []
    for width in WIDTHS:
        _set_width(driver, width)
        for page in pages:
            driver.get(base + page)
            WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
            m = _overflow(driver)
            figures.append({"page": page, "window": width, **m})
            if max(m["scroll"], m["body"], m["inner"]) > width:
                too_wide.append(figures[-1])
    print("\noverflow figures (CSS px):\n" + "\n".join(json.dumps(f) for f in figures))
    assert too_wide == [], too_wide
    assert _console_errors(driver) == []


def test_names_and_header_stay_in_view_and_images_enlarge(driver, served_board):
    base, _ = served_board
    _set_width(driver, 390, 500)  # a short phone screen, so that the table also scrolls down
    driver.get(base + "index.html")
    wrap = driver.find_element(By.CSS_SELECTOR, ".board-wrap")
    name = driver.find_element(By.CSS_SELECTOR, '#board tr[data-name="lime"] th.name')
    header = driver.find_element(By.CSS_SELECTOR, "#board thead tr:last-child th.name")
    left_before = name.rect["x"]
    above = header.rect["y"] - wrap.rect["y"]  # the caption and the family row sit above the header row
    room = driver.execute_script("return arguments[0].scrollHeight - arguments[0].clientHeight", wrap)
    assert room > above + 20, (room, above)
    driver.execute_script("arguments[0].scrollLeft = 600; arguments[0].scrollTop = arguments[1];", wrap, above + 20)
    time.sleep(0.2)
    assert driver.execute_script("return arguments[0].scrollLeft", wrap) > 0  # the table does scroll sideways
    assert abs(name.rect["x"] - left_before) < 1 and name.is_displayed()  # ...and the name column stays
    assert abs(header.rect["y"] - wrap.rect["y"]) < 2  # the header row sticks to the top of the scroll box

    # Sorting keeps the paper's baselines, the added methods and the controls apart.
    _set_width(driver, 390)
    driver.execute_script("arguments[0].scrollTop = 0; arguments[0].scrollLeft = 0;", wrap)
    driver.find_element(By.CSS_SELECTOR, '#board thead th[data-metric="clip_iou"] button').click()
    names = [r.get_attribute("data-name") for r in driver.find_elements(By.CSS_SELECTOR, "#board tbody tr[data-name]")]
    assert names[-1] == "random" and names.index("my_method") > names.index("integrated_gradients")
    paper = _column(driver, "board", "clip_iou", body=0)
    assert paper == sorted(paper, reverse=True)

    # A gallery image opens enlarged (a :target view, no JavaScript) at a whole multiple of its pixels.
    link = driver.find_element(By.CSS_SELECTOR, "#gallery figure.tile a")
    target = link.get_attribute("href").split("#")[1]
    driver.execute_script("arguments[0].scrollIntoView(); arguments[0].click();", link)
    zoom = driver.find_element(By.ID, target)
    WebDriverWait(driver, 5).until(lambda d: zoom.is_displayed())
    img = zoom.find_element(By.TAG_NAME, "img")
    natural, shown = driver.execute_script("return [arguments[0].naturalWidth, arguments[0].width]", img)
    assert shown % natural == 0 and shown // natural >= 2 and shown <= 390
    assert _overflow(driver)["scroll"] <= 390
    assert _console_errors(driver) == []
