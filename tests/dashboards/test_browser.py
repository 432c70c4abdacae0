"""The dashboard in a real headless Chromium: select, summary, markers, compare, live refresh, CSV download."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.export import csv_text, session_table
from monitor.report import summarize
from monitor.store import Marker, open_store
from monitor.tables import interval_table
from tests.factories import ROOM, START, aggregate

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database(tmp_path) -> Path:
    db = tmp_path / "engage.db"
    with open_store(db) as store:
        algebra = store.create_session("Algebra week 1", "camera 0", {"fps": 2}, START, room=ROOM, host="test")
        attention = [0.9, 0.85, None, None, 0.55, 0.5, 0.7, 0.9, 0.85, 0.8, 0.45, 0.6]
        for i, value in enumerate([0.6, 0.55, None, None, 0.4, 0.45, 0.5, 0.7, 0.65, 0.62, 0.3, 0.5]):
            store.add_interval(algebra, aggregate(i, value, attention=attention[i]))
        store.add_marker(algebra, Marker(45.0, START + timedelta(seconds=45), "slide 12: proofs"))
        store.finish_session(algebra, "completed", START + timedelta(seconds=120))
        geometry = store.create_session(
            "Geometry week 1", "camera 0", {"fps": 2}, START + timedelta(days=1), room="C3", host="test"
        )
        for i, value in enumerate([0.5, 0.52, 0.58, 0.61, 0.7, 0.66, 0.64, 0.6]):
            store.add_interval(geometry, aggregate(i, value))
        store.finish_session(geometry, "completed", START + timedelta(days=1, seconds=80))
    return db


@pytest.fixture
def dashboard(database):
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "engage.cli", "dashboard", "--db", str(database), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1300,1500",
        f"--user-data-dir={tmp_path / 'chrome-profile'}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "downloads")})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path / "downloads")}
    )
    yield driver
    driver.quit()


def wait_for(check, timeout: float = 20.0, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # the page is still rendering
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {message}")


GRAPH = "return document.querySelector('#main-graph .js-plotly-plot')"


def graph_traces(driver) -> list[dict]:
    script = (
        "._fullData.map(t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y, v => Number.isNaN(v) ? null : v)}))"
    )
    return driver.execute_script(GRAPH + script)


def row_checkbox(driver, name: str):
    from selenium.webdriver.common.by import By

    for row in driver.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr"):
        if name in row.text:
            return row.find_element(By.CSS_SELECTOR, "input")  # a radio in one-lecture mode, else a checkbox
    raise AssertionError(f"no row {name}")


def test_dashboard_in_chromium(dashboard, browser, database, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(dashboard)
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")) >= 3, message="rows")
    # the newest lecture (Geometry) is selected first; switch to Algebra
    wait_for(lambda: "Geometry week 1" in browser.find_element(By.ID, "summary").text, message="first summary")
    row_checkbox(browser, "Algebra").click()  # one lecture at a time: ticking another replaces it
    wait_for(lambda: "Algebra week 1" in browser.find_element(By.ID, "summary").text, message="Algebra summary")

    engagement = wait_for(lambda: next(t for t in graph_traces(browser) if t["name"] == "engagement"))
    assert len(engagement["x"]) == 12
    assert [y is None for y in engagement["y"]].count(True) == 2  # the gap stays a gap
    with open_store(database) as store:
        summary = summarize(interval_table(store.intervals(1)))
        expected_csv = csv_text(session_table(store, store.session(1)))
    text = browser.find_element(By.ID, "summary").text
    assert "AT YOUR USUAL" in text.upper() and "this lecture's first 10 minutes (the room's first lecture)" in text
    browser.find_element(By.CSS_SELECTOR, ".index-details summary").click()  # the 0-1 index, one click away
    wait_for(lambda: "p(positive)" in browser.find_element(By.ID, "summary").text, message="index note")
    text = browser.find_element(By.ID, "summary").text
    assert f"mean {summary.mean_engagement:.2f}" in text
    assert "2:00" in text and "REVISIT" in text.upper() and "1:40" in text  # lowest window at 100 s
    attention = next(t for t in graph_traces(browser) if t["name"].startswith("attention"))
    assert [y is None for y in attention["y"]].count(True) == 2 and "MEAN ATTENTION" in text.upper()
    assert "least attention: 1:40, 45% facing front" in text
    annotations = browser.execute_script(GRAPH + ".layout.annotations.map(a => a.text)")
    assert "slide 12: proofs" in annotations

    browser.find_element(By.ID, "download-button").click()
    downloads = tmp_path / "downloads"
    csv_file = wait_for(lambda: next(iter(downloads.glob("*.csv")), None), message="CSV download")
    wait_for(lambda: csv_file.read_text(encoding="utf-8") == expected_csv, message="identical CSV")
    assert csv_file.name == "session-1-Algebra_week_1.csv"

    browser.save_screenshot(str(tmp_path / "dashboard.png"))
    if os.environ.get("ENGAGE_SCREENSHOT"):
        shutil.copy(tmp_path / "dashboard.png", os.environ["ENGAGE_SCREENSHOT"])

    browser.find_element(By.CSS_SELECTOR, "#view input[value=compare]").click()
    wait_for(lambda: row_checkbox(browser, "Geometry").get_attribute("type") == "checkbox", message="checkboxes")
    row_checkbox(browser, "Geometry").click()
    traces = wait_for(lambda: (t := graph_traces(browser)) and len(t) == 2 and t, message="two compared sessions")
    assert {t["name"].split(" · ")[0] for t in traces} == {"Algebra week 1", "Geometry week 1"}  # across rooms


def test_the_presenter_view_follows_the_running_lecture_in_large_type(dashboard, browser, database, tmp_path):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 800)
    browser.get(dashboard + "presenter/")
    wait_for(lambda: "No lecture is running" in browser.find_element(By.ID, "presenter").text, message="nothing")
    with open_store(database) as store:  # this test process is alive, so the session stays `running`
        live = store.create_session(
            "Live lecture", "camera 0", {"min_faces": 3}, datetime.now(UTC) + timedelta(days=3), room=ROOM, host="t"
        )
        for i in range(60):  # calm for eight minutes, then a drift in the last two
            store.add_interval(live, aggregate(i, 0.42 if i < 48 else 0.22, faces=6.0, attention=0.8))
    presenter = wait_for(
        lambda: (e := browser.find_element(By.ID, "presenter")) and "Below your usual" in e.text and e,
        timeout=30,
        message="the running lecture, read against its usual",
    )
    assert ROOM in presenter.text and "lecture 10:00" in presenter.text and "6\nfaces" in presenter.text
    assert "drifted below its level of this lecture" in presenter.text
    size = browser.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('.presenter-reading')).fontSize)"
    )
    assert size >= 60  # readable from the back of a room
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".presenter-trend .scatterlayer .trace"), message="trend")
    browser.save_screenshot(str(tmp_path / "presenter.png"))
    if os.environ.get("ENGAGE_SCREENSHOT_PRESENTER"):
        shutil.copy(tmp_path / "presenter.png", os.environ["ENGAGE_SCREENSHOT_PRESENTER"])


def test_the_room_selector_shows_one_rooms_lectures(dashboard, browser):
    from selenium.webdriver.common.by import By

    browser.get(dashboard)
    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")) >= 3, message="rows")
    browser.find_element(By.ID, "room").click()
    option = wait_for(
        lambda: next(e for e in browser.find_elements(By.CSS_SELECTOR, "[role=option]") if e.text == "C3"),
        message="room option C3",
    )
    option.click()

    def rows() -> list[str]:
        return [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#sessions-table tbody tr")[1:]]

    wait_for(lambda: (found := rows()) and all("C3" in r for r in found) and len(found) == 1, message="C3 only")
    wait_for(lambda: "Geometry week 1" in browser.find_element(By.ID, "summary").text, message="C3 summary")


def test_running_session_refreshes_without_reload(dashboard, browser, database):
    from selenium.webdriver.common.by import By

    with open_store(database) as store:  # this test process is alive, so the session stays `running`
        live = store.create_session(
            "Live lecture", "camera 0", {}, datetime.now(UTC) + timedelta(days=3), room=ROOM, host="test"
        )
        store.add_interval(live, aggregate(0, 0.5))
    browser.get(dashboard)
    wait_for(lambda: "Live lecture" in browser.find_element(By.ID, "summary").text, message="live summary")
    first = wait_for(lambda: next(t for t in graph_traces(browser) if t["name"] == "engagement"))
    assert len(first["x"]) == 1
    with open_store(database) as store:
        store.add_interval(live, aggregate(1, 0.7))
        store.add_interval(live, aggregate(2, 0.8))
    wait_for(
        lambda: len(next(t for t in graph_traces(browser) if t["name"] == "engagement")["x"]) == 3,
        timeout=15,
        message="live refresh",
    )


def test_empty_database_shows_how_to_start(tmp_path, browser):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "engage.cli", "dashboard", "--db", str(tmp_path / "none.db"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: urllib.request.urlopen(url, timeout=1), message="server")
        browser.get(url)
        from selenium.webdriver.common.by import By

        text = wait_for(lambda: browser.find_element(By.ID, "empty-page").text, message="empty page")
        assert "No lectures recorded yet" in text and "engage live" in text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_first_week_points_one_lecture_clock_axis_rounding_link_and_a_narrow_window(dashboard, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(900, 1200)
    browser.get(dashboard)
    wait_for(lambda: "Geometry week 1" in browser.find_element(By.ID, "summary").text, message="first summary")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    cells = wait_for(
        lambda: [
            c.text for c in browser.find_elements(By.CSS_SELECTOR, "#sessions-table td[data-dash-column=engagement]")
        ],
        message="engagement cells",
    )
    assert all(len(c.split(".")[1]) == 2 for c in cells), cells  # 0.52, never 0.5 beside 1.00
    ticks = wait_for(
        lambda: [
            t
            for t in browser.execute_script(
                "return Array.from(document.querySelectorAll("
                "'#main-graph .xtick text, #main-graph .x2tick text'), e => e.textContent)"
            )
            if t
        ],
        message="x ticks",
    )
    assert all(":" in t and t.replace(":", "").isdigit() for t in ticks), ticks  # lecture time as m:ss
    assert "Your usual is the median" in browser.find_element(By.CSS_SELECTOR, ".usual-note").text
    browser.find_element(By.CSS_SELECTOR, ".index-details summary").click()  # the 0-1 index, one click away
    wait_for(lambda: "p(positive)" in browser.find_element(By.CSS_SELECTOR, ".index-note").text, message="index note")

    row_checkbox(browser, "Algebra").click()
    wait_for(lambda: "Algebra week 1" in browser.find_element(By.ID, "summary").text, message="Algebra replaces")
    assert (
        len(
            browser.execute_script(
                "return Array.from(document.querySelectorAll('#sessions-table input')).filter(i => i.checked)"
            )
        )
        == 1
    )

    browser.find_element(By.CSS_SELECTOR, "#view input[value=compare]").click()
    wait_for(lambda: row_checkbox(browser, "Geometry").get_attribute("type") == "checkbox", message="checkboxes")
    row_checkbox(browser, "Geometry").click()
    link = wait_for(
        lambda: (
            (href := browser.find_element(By.ID, "share-link").get_attribute("href"))
            and "view=compare" in href
            and "," in href
            and href
        ),
        message="share link",
    )
    row_checkbox(browser, "Geometry").click()
    row_checkbox(browser, "Algebra").click()  # nothing ticked
    wait_for(lambda: browser.find_element(By.ID, "download-button").get_attribute("disabled"), message="no download")
    wait_for(  # the graph is redrawn: its annotations come a moment later
        lambda: "Tick a lecture" in browser.execute_script(GRAPH + ".layout.annotations.map(a => a.text).join()"),
        message="the empty state",
    )

    browser.get(link)  # the shared link opens the same comparison
    traces = wait_for(lambda: (t := graph_traces(browser)) and len(t) == 2 and t, message="linked comparison")
    assert {t["name"].split(" · ")[0] for t in traces} == {"Algebra week 1", "Geometry week 1"}
