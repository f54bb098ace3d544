"""Screenshots of the gallery page and one image of each plot kind, for docs/readme/review.md.

    python examples/screenshots.py [--db demo.duckdb] [--out docs/images]

Builds the demo project if the file is missing (`qmdb.demo.build`), serves it on 127.0.0.1 with a
real uvicorn in a thread, drives Debian's headless Chromium (/usr/bin/chromium, through Selenium
and /usr/bin/chromedriver: nothing is downloaded) and writes PNGs into `--out`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import qmdb
from qmdb import plots

PAGES = {  # file name -> (the page's hash, open the first card's detail view)
    "gallery_label_errors.png": ("view=errors_class_swaps&limit=18&min_score=0.5", False),
    "gallery_detail.png": ("view=errors_class_swaps&limit=18&min_score=0.5&open=0", True),
    "gallery_missing_labels.png": ("view=errors_missing_labels&limit=18&min_score=0.5", False),
    "gallery_images.png": (("sql=SELECT image_id, path, split FROM images WHERE dataset %3D 'scenes' "
                            "ORDER BY image_id&limit=18&min_score=0.5"), False),
    "gallery_plot_tab.png": ("plot=by-metric&p.metric=brightness&p.model=detector", False),
}
PLOTS = {  # file name -> (kind, parameters)
    "plot_histogram.png": ("histogram", {"metric": "brightness", "by": "split"}),
    "plot_scatter.png": ("scatter", {"x": "brightness", "y": "box_contrast", "by": "none"}),
    "plot_by_metric.png": ("by-metric", {"metric": "box_contrast", "model": "detector"}),
    "plot_importance.png": ("importance", {"model": "detector"}),
    "plot_confusion.png": ("confusion", {"model": "detector"}),
    "plot_pr.png": ("pr", {"model": "detector"}),
}
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,900", "--hide-scrollbars")


def browser():
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="qmdb-shots-")
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options), profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("demo.duckdb"))
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.db.exists():
        from qmdb.demo import build

        build(args.db)
    con = qmdb.connect(args.db, read_only=True)
    for name, (kind, given) in PLOTS.items():
        print("wrote", plots.draw(con, kind, args.out / name, **given))
    con.close()
    from qmdb.server import Settings, create_app
    from qmdb.server.background import serve_in_thread
    from selenium.webdriver.support.ui import WebDriverWait

    with serve_in_thread(create_app(Settings(database=args.db))) as url:
        driver, profile = browser()
        try:
            for name, (fragment, _) in PAGES.items():
                driver.get("about:blank")
                driver.get(f"{url}/gallery#{fragment}")
                WebDriverWait(driver, 60).until(lambda d: d.execute_script(
                    "return document.body.dataset.ready === '1' && [...document.images].every(i => i.complete)"))
                time.sleep(1.5)  # the SVG <image> thumbnails have no load event to wait for
                driver.save_screenshot(str(args.out / name))
                print("wrote", args.out / name)
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)

if __name__ == "__main__":
    main()
