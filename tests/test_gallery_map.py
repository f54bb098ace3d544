"""The gallery's map view: the points of the embedding map coloured by any column (the server's
`GET /gallery/map`, `qmdb.gallery.map_points`), and in headless Chromium a lasso whose selection
becomes tags through the server's write path."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import qmdb
from qmdb.embeddings import map as embedding_map
from qmdb.errors import QmdbError
from qmdb.gallery.map_points import colour_options, map_points

TOKEN = "map-token"


@pytest.fixture(scope="module")
def map_db(demo_db, tmp_path_factory) -> Path:
    """A private copy of the demo project (the tests write tags)."""
    folder = tmp_path_factory.mktemp("gallery-map")
    for path in Path(demo_db).parent.iterdir():
        if path.name.startswith(Path(demo_db).stem):
            (shutil.copytree if path.is_dir() else shutil.copy2)(path, folder / path.name)
    db = folder / Path(demo_db).name
    with qmdb.connect(db) as con:  # the stored PCA layout: every read below is a query, not a fit
        embedding_map.materialize(con, method="pca")
    return db


@pytest.fixture
def con(map_db):
    connection = qmdb.connect(map_db, read_only=True)
    yield connection
    connection.close()


def test_points_carry_the_column_they_are_coloured_by(con):
    by_class = map_points(con, None, "image", "class", "pca")
    ids = [p[0] for p in by_class["points"]]
    assert by_class["kind"] == "category" and len(ids) == con.sql(
        "SELECT count(*) FROM embeddings WHERE model = ?", params=[by_class["model"]]).fetchall()[0][0]
    first_class = dict(con.sql("SELECT image_id, min(class) FROM labels GROUP BY image_id").fetchall())
    assert [p[4] for p in by_class["points"]] == [first_class.get(i, "(none)") for i in ids]
    bright = map_points(con, None, "image", "brightness", "pca")
    truth = dict(con.sql("SELECT image_id, brightness FROM image_metrics").fetchall())
    assert bright["kind"] == "number" and [p[4] for p in bright["points"]] == [truth.get(i) for i in ids]
    assert [p[:4] for p in bright["points"]] == [p[:4] for p in by_class["points"]]  # one layout, two colourings
    split = map_points(con, None, "image", "split", "pca")
    assert {p[4] for p in split["points"]} == {s or "(none)" for (s,) in con.sql("SELECT DISTINCT split FROM images "
                                                                               "WHERE image_id IN (SELECT image_id FROM embeddings)").fetchall()}


def test_a_models_correctness_and_bad_columns(con):
    options = colour_options(con)
    assert {"class", "split", "tag", "cluster", "brightness", "camera"} <= set(options)
    correct = [o for o in options if o.startswith("correct:")]
    assert correct, options
    values = map_points(con, None, "image", correct[0], "pca")
    assert {p[4] for p in values["points"]} <= {"correct", "missed", "spurious", "(none)"}
    missed = {p[1] for p in values["points"] if p[4] == "missed"}
    truth = {r[0] for r in con.sql("SELECT DISTINCT image_id FROM matches WHERE model = ? AND outcome = 'FN' "
                                   "AND (threshold IS NULL OR threshold = 0.5)", params=[correct[0][8:]]).fetchall()}
    assert missed == truth & {p[1] for p in values["points"]}
    with pytest.raises(QmdbError, match="model 'nobody' has no evaluation"):
        map_points(con, None, "image", "correct:nobody", "pca")
    with pytest.raises(QmdbError, match="by must be one of class, split"):
        map_points(con, None, "image", "image_id", "pca")


def test_the_server_route_and_the_page(map_db):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from qmdb.server import Settings, create_app

    app = create_app(Settings(database=map_db))
    with TestClient(app) as client:
        body = client.get("/gallery/map", params={"by": "split", "method": "pca"}).json()
        bad = client.get("/gallery/map", params={"by": "nope"})
        page = client.get("/gallery").text
        script = client.get("/gallery/static/map.js")
    app.state.qmdb.con.close()
    assert body["kind"] == "category" and body["points"] and "brightness" in body["options"]
    assert bad.status_code == 400 and "by must be one of" in bad.json()["error"]
    assert 'id="tab-map"' in page and "/gallery/static/map.js" in page
    assert script.status_code == 200 and "lasso" in script.text
    assert client_post(map_db, False).status_code == 403


def client_post(db, writable: bool, *calls):
    """The responses of POST /gallery/tags to each (token, body) on one app."""
    from fastapi.testclient import TestClient

    from qmdb.server import Settings, create_app

    app = create_app(Settings(database=db, allow_writes=writable, write_token=TOKEN if writable else None))
    out = []
    with TestClient(app) as client:
        for token, body in calls or [(None, {})]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            out.append(client.post("/gallery/tags", json={"item_ids": [1, 2], "tag": "t", **body}, headers=headers))
    app.state.qmdb.con.close()
    return out[0] if len(out) == 1 else out


def test_a_selection_is_tagged_in_one_write_with_the_token(map_db):
    pytest.importorskip("fastapi")
    no_token, wrong, missing, done = client_post(map_db, True, (None, {}), ("wrong", {}),
                                                 (TOKEN, {"item_ids": [3, 10**9], "tag": "chosen"}),
                                                 (TOKEN, {"item_ids": [5, 3, 4, 3], "tag": "chosen"}))
    assert no_token.status_code == wrong.status_code == 401
    assert missing.status_code == 404 and "no image with image_id 1000000000" in missing.json()["error"]
    done = done.json()
    assert done["tagged"] == 3
    with qmdb.connect(map_db, read_only=True) as con:
        rows = con.sql("SELECT tag_id, item_id, author FROM tags WHERE tag = 'chosen' ORDER BY item_id").fetchall()
        by_tag = map_points(con, None, "image", "tag", "pca")
    assert [r[1:] for r in rows] == [(3, "gallery-map"), (4, "gallery-map"), (5, "gallery-map")]
    assert [r[0] for r in rows] == done["tag_ids"]
    assert {p[0] for p in by_tag["points"] if p[4] == "chosen"} == {3, 4, 5}


@pytest.mark.slow
def test_a_lasso_becomes_tags_in_chromium(map_db):
    chromium, driver_path = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (chromium.exists() and driver_path.exists()):
        pytest.skip("no Chromium: apt-get install chromium chromium-driver")
    pytest.importorskip("selenium", reason="the browser test needs selenium (the 'dev' extra)")
    import os
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from qmdb.server import Settings, create_app
    from qmdb.server.background import serve_in_thread

    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='qmdb-map-')}"):
        options.add_argument(flag)
    app = create_app(Settings(database=map_db, allow_writes=True, write_token=TOKEN, timeout=30.0))
    with serve_in_thread(app) as url:
        driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
        try:
            driver.get(f"{url}/gallery#tab=map&method=pca&by=class")
            wait = WebDriverWait(driver, 60)
            wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-map-points"))
            canvas = driver.find_element(By.ID, "map-canvas")
            w, h = canvas.size["width"], canvas.size["height"]
            # a lasso around the left fifth of the map: a rectangle traced point by point
            right = -w // 2 + w // 5
            path = [(-w // 2 + 2, -h // 2 + 2), (right, -h // 2 + 2), (right, h // 2 - 2), (-w // 2 + 2, h // 2 - 2)]
            chain = ActionChains(driver).move_to_element_with_offset(canvas, *path[0]).click_and_hold()
            for x, y in path[1:] + path[:1]:
                chain = chain.move_to_element_with_offset(canvas, x, y)
            chain.release().perform()
            selected = int(wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-map-selected")))
            points = int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-map-points"))
            assert 0 < selected < points
            ids = driver.execute_script("return [...window.QMDB_MAP.selected]")
            xs = driver.execute_script("return window.QMDB_MAP.px")
            assert max(xs[i] for i, p in enumerate(driver.execute_script("return window.QMDB_MAP.data.points"))
                       if p[0] in set(ids)) <= driver.execute_script("return document.getElementById('map-canvas').width") / 5 + 2
            driver.find_element(By.ID, "map-token").send_keys(TOKEN)
            driver.find_element(By.ID, "map-tag").send_keys("lassoed")
            driver.find_element(By.ID, "map-tag-button").click()
            tagged = wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-map-tagged"))
        finally:
            driver.quit()
    app.state.qmdb.con.close()
    assert int(tagged) == selected
    with qmdb.connect(map_db, read_only=True) as con:
        rows = con.sql("SELECT item_type, item_id, author FROM tags WHERE tag = 'lassoed' ORDER BY item_id").fetchall()
    assert rows == [("image", i, "gallery-map") for i in sorted(ids)]
