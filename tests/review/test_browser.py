"""The gallery page in headless Chromium against a real uvicorn serving the demo (writes allowed):
cards and boxes match the query, paging, the detail view, tagging from the page, the page opened
with no view (the worst label errors, unasked), a typed query, a plot, and the static export opened from disk."""

import pytest

pytest.importorskip("selenium", reason="the browser tests need selenium (the 'dev' extra)")
httpx = pytest.importorskip("httpx", reason="the browser tests need the 'server' extra")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ready  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import qmdb  # noqa: E402
from qmdb.gallery import export_gallery  # noqa: E402

from .conftest import TOKEN  # noqa: E402

pytestmark = pytest.mark.slow
LIMIT = 12


@pytest.fixture(scope="module")
def expected(review_db):
    """What the page must show, computed by SQL before the server opens the file."""
    con = qmdb.connect(review_db, read_only=True)
    try:
        rows = con.sql(f"SELECT label_id, image_id FROM errors_class_swaps() LIMIT {2 * LIMIT}").fetchall()
        pages = [rows[:LIMIT], rows[LIMIT:]]

        def boxes(page, table, where):
            ids = [r[1] for r in page]  # one card per row: an image shown twice counts twice
            return con.execute(f"SELECT count(*) FROM unnest($ids) u(image_id) JOIN {table} t USING (image_id) "
                               f"WHERE t.w IS NOT NULL {where}", {"ids": ids}).fetchall()[0][0]

        found = {"pages": pages, "labels": [boxes(p, "labels", "") for p in pages],
                 "predictions": [boxes(p, "predictions", "AND t.score >= 0.5") for p in pages],
                 "scenes": con.sql("SELECT count(*) FROM images WHERE dataset = 'scenes'").fetchall()[0][0],
                 "opening": [r[0] for r in con.sql("SELECT label_id FROM errors_classification() LIMIT 24").fetchall()],
                 "datasets": con.sql("SELECT count(*) FROM datasets").fetchall()[0][0]}
        static = review_db.parent / "static_gallery.html"
        export_gallery(con, static, view="errors_classification", limit=60, progress=False)  # 128 rows on the demo
        found["static"] = static
        return found
    finally:
        con.close()


def _open(browser, url):
    browser.get("about:blank")  # a new hash alone would not reload the page
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.body.dataset.ready === '1'"))


def _count(browser, css):
    return len(browser.find_elements(By.CSS_SELECTOR, css))


def test_grid_paging_detail_and_tag(expected, served, browser):
    _open(browser, f"{served}/gallery#view=errors_class_swaps&limit={LIMIT}&min_score=0.5")
    assert _count(browser, ".card") == LIMIT
    assert _count(browser, ".card rect.box.label") == expected["labels"][0] > 0
    assert _count(browser, ".card rect.box.prediction") == expected["predictions"][0] > 0
    focus = [int(c.get_attribute("data-focus-id")) for c in browser.find_elements(By.CSS_SELECTOR, ".card")]
    assert focus == [r[0] for r in expected["pages"][0]]
    assert _count(browser, ".card rect.box.label.focus") == LIMIT  # each card highlights its own label

    browser.find_element(By.ID, "next").click()
    WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element((By.ID, "range"), f"rows {LIMIT + 1}–"))
    focus = [int(c.get_attribute("data-focus-id")) for c in browser.find_elements(By.CSS_SELECTOR, ".card")]
    assert focus == [r[0] for r in expected["pages"][1]]
    assert _count(browser, ".card rect.box.label") == expected["labels"][1]
    assert "offset=12" in browser.current_url

    card = browser.find_elements(By.CSS_SELECTOR, ".card")[0]
    label_id = int(card.get_attribute("data-focus-id"))
    card.click()
    detail = browser.find_element(By.ID, "detail")
    assert detail.is_displayed()
    assert f"label {label_id}" in detail.find_element(By.TAG_NAME, "h3").text
    assert str(label_id) in detail.find_element(By.CSS_SELECTOR, "table.row").text
    assert _count(browser, "#detail svg.full image") == 1

    detail.find_element(By.ID, "token").send_keys(TOKEN)
    detail.find_element(By.CSS_SELECTOR, "button[data-tag='wrong_label']").click()
    WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".tags .done"), "tagged"))
    answer = httpx.post(f"{served}/query", json={
        "sql": "SELECT item_type, item_id, tag, author FROM tags WHERE tag = 'wrong_label'"}).json()
    assert answer["rows"] == [["label", label_id, "wrong_label", "gallery"]]


def test_a_wrong_token_tags_nothing(served, browser):
    _open(browser, f"{served}/gallery#view=select_outliers&limit=4")
    browser.find_elements(By.CSS_SELECTOR, ".card")[0].click()
    token = browser.find_element(By.CSS_SELECTOR, "#detail #token")
    token.clear()
    token.send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#detail button[data-tag='drop']").click()
    WebDriverWait(browser, 20).until(ready.text_to_be_present_in_element((By.CSS_SELECTOR, ".tags .done"), "not tagged"))
    answer = httpx.post(f"{served}/query", json={"sql": "SELECT count(*) FROM tags WHERE tag = 'drop'"}).json()
    assert answer["rows"] == [[0]]


def test_a_typed_query_and_a_plot(expected, served, browser):
    _open(browser, f"{served}/gallery")  # no view named: the worst label errors, with the dataset summary, unasked
    focus = [int(c.get_attribute("data-focus-id")) for c in browser.find_elements(By.CSS_SELECTOR, ".card")]
    assert focus == expected["opening"] and len(focus) == 24
    assert browser.find_element(By.ID, "view").get_property("value") == "errors_classification"
    assert _count(browser, "#summary tr") == 1 + expected["datasets"]
    assert "view=errors_classification" in browser.current_url
    browser.execute_script("const v = document.getElementById('view'); v.value = ''; v.dispatchEvent(new Event('change'))")
    sql = browser.find_element(By.ID, "sql")
    sql.clear()
    sql.send_keys("SELECT image_id, path FROM images WHERE dataset = 'scenes' ORDER BY image_id")
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 20).until(lambda b: _count(b, ".card") == 24)
    assert not browser.find_element(By.ID, "next").get_property("disabled")  # more scenes than one page
    assert expected["scenes"] > 24

    _open(browser, f"{served}/gallery#plot=confusion&p.model=detector")
    WebDriverWait(browser, 30).until(lambda b: b.execute_script(
        "const i = document.getElementById('plot'); return i.complete && i.naturalWidth > 0"))
    assert "/gallery/plots/confusion.svg?model=detector" in browser.find_element(By.ID, "plot").get_attribute("src")


def test_the_static_export_opened_from_disk(expected, browser):
    browser.get(expected["static"].as_uri())
    WebDriverWait(browser, 20).until(lambda b: _count(b, ".card") > 0)
    assert _count(browser, ".card") == 48  # the first page of the 60 embedded rows
    assert _count(browser, ".card svg image") == 48
    assert "cards 1–48 of 60" in browser.find_element(By.ID, "range").text
    browser.find_element(By.ID, "next").click()
    assert _count(browser, ".card") == 12
    browser.find_elements(By.CSS_SELECTOR, ".card")[0].click()
    assert browser.find_element(By.ID, "detail").is_displayed()
