"""Fixtures for the visual-review tests: a private copy of the demo project (the browser tests write
tags), a real uvicorn serving it with writes allowed, and headless Chromium from Debian's packages."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

import qmdb

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
TOKEN = "review-token"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000")


@pytest.fixture(scope="session")
def review_db(demo_db, tmp_path_factory) -> Path:
    """A copy of the demo database (image roots are absolute, so the copy sees the same files)."""
    folder = tmp_path_factory.mktemp("review")
    for path in Path(demo_db).parent.iterdir():
        if path.name.startswith(Path(demo_db).stem):
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, folder / path.name)
    return folder / Path(demo_db).name


@pytest.fixture(scope="module")
def review_con(review_db):
    """A read-only connection to the copy, closed at the end of the module (a server may open it next)."""
    con = qmdb.connect(review_db, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def served(review_db):
    """http://127.0.0.1:PORT serving the copy with --allow-writes --token TOKEN, in a thread."""
    pytest.importorskip("fastapi")
    from qmdb.server import Settings, create_app
    from qmdb.server.background import serve_in_thread

    # the server opens the file read-write: no other connection of this process may hold it
    app = create_app(Settings(database=review_db, allow_writes=True, write_token=TOKEN, timeout=20.0))
    with serve_in_thread(app) as url:
        yield url
    app.state.qmdb.con.close()


def chromium_driver():
    """Headless Chromium driven by Selenium through Debian's chromedriver (never a downloaded driver)."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="qmdb-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.profile_folder = profile
    return driver


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("no Chromium: apt-get install chromium chromium-driver (puts /usr/bin/chromium, /usr/bin/chromedriver)")
    pytest.importorskip("selenium", reason="the browser tests need selenium (the 'dev' extra)")
    driver = chromium_driver()
    yield driver
    driver.quit()
    shutil.rmtree(driver.profile_folder, ignore_errors=True)
