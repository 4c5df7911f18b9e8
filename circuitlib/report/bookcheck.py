"""Check the built book the way a reader sees it: headless Chromium opens every page, served from
localhost, and reports images that did not load, unresolved glue keys or figure reprs in the text,
Python tracebacks, internal links that lead nowhere, and built pages the navigation cannot reach.
A screenshot of every page goes to _build/screenshots/.

    python -m circuitlib.report.bookcheck _build/html [--screenshots _build/screenshots]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlparse

BAD_TEXT = {
    "figure repr": re.compile(r"<(Figure size \d+x\d+|matplotlib\.[\w.]+ object at|IPython\.core\.display\.\w+ object)"),
    "Python traceback": re.compile(r"Traceback \(most recent call last\)"),
    "unresolved glue": re.compile(r"\{glue(:\w+)?\}|glue:\w+`|PendingGlueReference"),
}
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}


def built_pages(root: Path) -> list[str]:
    """Every HTML page of the build, relative to root, except Sphinx's own index and search pages."""
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0].startswith(("_static", "_sources", "_images")) or rel in SKIP_PAGES:
            continue
        pages.append(rel)
    return pages


def _links(html: str) -> list[str]:
    """Targets of anchors, and of a meta refresh (Jupyter Book's index.html redirects to the root page)."""
    refresh = re.findall(r'<meta[^>]+http-equiv="[Rr]efresh"[^>]+url=([^"\s]+)"', html)
    return re.findall(r'<a\s[^>]*href="([^"]+)"', html) + refresh


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def link_problems(root: Path, pages: list[str]) -> tuple[list[str], set[str]]:
    """Broken internal links, and the set of pages reachable from index.html by following links."""
    problems, reachable, todo = [], set(), ["index.html"]
    html_of = functools.lru_cache(maxsize=None)(lambda rel: (root / rel).read_text(encoding="utf-8", errors="replace"))
    while todo:
        page = todo.pop()
        if page in reachable or not (root / page).is_file():
            continue
        reachable.add(page)
        for href in _links(html_of(page)):
            parsed = urlparse(href)
            if parsed.scheme or href.startswith(("mailto:", "javascript:", "//")):
                continue
            target, fragment = urldefrag(urljoin(page, unquote(href)))
            target = target or page
            if target.endswith("/"):
                target += "index.html"
            if not (root / target).is_file():
                problems.append(f"{page}: link to {href} leads nowhere")
                continue
            if target.endswith(".html"):
                if fragment and fragment not in _ids(html_of(target)):
                    problems.append(f"{page}: link to {href}: no element with id '{fragment}'")
                todo.append(target)
    return problems, reachable


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _browser():
    from selenium import webdriver  # the book extra: only the browser check needs selenium
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1600"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def page_problems(driver, url: str, page: str, shot: Path | None) -> list[str]:
    """What a reader would see wrong on one page, after it has loaded in the browser."""
    driver.get(url + page)
    problems = []
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    problems += [f"{page}: image did not load: {src}" for src in broken]
    text = driver.execute_script("return document.body.innerText")
    for name, pattern in BAD_TEXT.items():
        m = pattern.search(text)
        if m:
            problems.append(f"{page}: {name} in the page text: {m.group(0)!r}")
    if shot is not None:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, max(800, min(int(height), 12000)))
        shot.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(shot))
        driver.set_window_size(1280, 1600)
    return problems


def check(root: Path, screenshots: Path | None = None) -> list[str]:
    """Every problem found in the built book at `root` (an empty list means it passed)."""
    root = Path(root)
    if not (root / "index.html").is_file():
        return [f"{root}/index.html does not exist: build the book first"]
    pages = built_pages(root)
    problems, reachable = link_problems(root, pages)
    problems += [f"{p}: built but not reachable from the navigation" for p in pages if p not in reachable]
    server, url = _serve(root)
    driver = _browser()
    try:
        for page in pages:
            shot = screenshots / (page.replace("/", "__").removesuffix(".html") + ".png") if screenshots else None
            problems += page_problems(driver, url, page, shot)
    finally:
        driver.quit()
        server.shutdown()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default="_build/html")
    parser.add_argument("--screenshots", default=None, help="folder for page screenshots (default: <root>/../screenshots)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    shots = Path(args.screenshots) if args.screenshots else root.parent / "screenshots"
    problems = check(root, shots)
    for p in problems:
        print(f"book check: {p}", file=sys.stderr)
    print(f"book check: {len(built_pages(root)) if root.is_dir() else 0} pages, {len(problems)} problems; "
          f"screenshots in {shots}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
