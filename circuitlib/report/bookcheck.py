"""Check the built book the way a reader sees it: headless Chromium opens every page, served from
localhost, and reports images that did not load or are shrunk past reading, unresolved glue keys, figure or object
reprs, warnings, absolute paths of the build machine and Python tracebacks in the text, stderr outputs, table cells
that read nan or None, table text that the page does not show, internal links that lead nowhere, and built pages the
navigation cannot reach.
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
    "object repr": re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>"),
    "Python traceback": re.compile(r"Traceback \(most recent call last\)"),
    "unresolved glue": re.compile(r"\{glue(:\w+)?\}|glue:\w+`|PendingGlueReference"),
    "warning": re.compile(r"\b[A-Z]\w*Warning: "),
    "absolute path": re.compile(r"(?<![\w.])(/home/|/root/|/work/|/tmp/|/usr/lib/python|/opt/conda)|site-packages/|/\.venv/"),
}
EMPTY_CELLS = {"nan", "NaN", "None", "<NA>", "NaT"}  # a table cell that says nothing to a reader
SHRUNK = 0.5  # an image shown at less than this share of its width has unreadably small text
_PAGE_CHECKS = """
const cells = Array.from(document.querySelectorAll("td, th")).map(c => c.innerText.trim());
const shrunk = Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0 && i.clientWidth > 0
    && i.clientWidth < arguments[0] * i.naturalWidth).map(i => `${i.src.split("/").pop()} (${i.clientWidth} of ${i.naturalWidth} px)`);
return {cells: cells, stderr: document.querySelectorAll("div.output.stderr, div.stderr").length, shrunk: shrunk};
"""
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


def table_texts(notebook: Path) -> list[str]:
    """The cell texts of every table a notebook printed, from the plain-text form of each output that also has an
    HTML table (a DataFrame): the words the reader must find on the page, however the HTML was written."""
    import json

    texts = []
    for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html, plain = "".join(data.get("text/html", [])), "".join(data.get("text/plain", []))
            if "<table" in html and plain and not plain.startswith("<"):  # a Styler's plain text is its repr
                texts += [t for line in plain.splitlines() for t in re.split(r"\s{2,}", line.strip())
                          if t and t != "\\" and not t.endswith("...") and not t.startswith("[")]
    return texts


_TABLE_TAGS = re.compile(r"<(?!/?(table|thead|tbody|tfoot|tr|th|td|style|div|span|br|p|b|i|em|strong|a|sup|sub|code|"
                        r"caption|colgroup|col)\b)[A-Za-z]", re.IGNORECASE)


def unescaped_markup(notebook: Path) -> list[str]:
    """Snippets of table outputs where text holds a '<' that the browser reads as a tag ('1<Q<5' swallows 'Q<5'):
    any tag a table (a DataFrame or a Styler) does not use."""
    import json

    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
        for out in cell.get("outputs", []):
            html = "".join(out.get("data", {}).get("text/html", []))
            if "<table" in html:
                found += [html[max(m.start() - 12, 0) : m.start() + 12] for m in _TABLE_TAGS.finditer(html)]
    return found


def missing_table_text(source: Path | None, page_text: str) -> list[str]:
    """Table texts of the page's notebook (`table_texts`) that the rendered page does not show (an unescaped '<'
    swallows what follows it, say)."""
    if source is None or not source.is_file():
        return []
    flat = " ".join(page_text.split())
    return sorted({t for t in table_texts(source) if " ".join(t.split()) not in flat} | set(unescaped_markup(source)))


def page_problems(driver, url: str, page: str, shot: Path | None, source: Path | None = None) -> list[str]:
    """What a reader would see wrong on one page, after it has loaded in the browser; `source` is the page's
    notebook, whose tables must appear in full."""
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
    found = driver.execute_script(_PAGE_CHECKS, SHRUNK)
    empty = sorted({c for c in found["cells"] if c in EMPTY_CELLS})
    problems += [f"{page}: table cells that read {', '.join(empty)}"] if empty else []
    problems += [f"{page}: {found['stderr']} stderr output(s) published"] if found["stderr"] else []
    problems += [f"{page}: image shrunk to unreadable size: {s}" for s in found["shrunk"]]
    problems += [f"{page}: table text missing from the page: {t!r}" for t in missing_table_text(source, text)]
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
            source = root / "_sources" / page.replace(".html", ".ipynb")
            problems += page_problems(driver, url, page, shot, source)
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
