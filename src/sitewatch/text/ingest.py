"""Articles as text: plain text, Markdown, HTML and PDF files, safely.

The text returned is what offsets refer to: for plain text, the file's own characters;
for HTML, Markdown and PDF, the text extracted from them. HTML is parsed, never rendered
or executed: scripts, styles and other non-content elements are dropped and block elements become
line breaks. Bytes are decoded as UTF-8 when they are, else by charset detection; files
that are binary, too large or undecodable are refused with a clear error.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sitewatch.errors import InputFileError

MAX_BYTES = 20 * 1024 * 1024
_HTML_HINT = re.compile(rb"<\s*(html|body|p|div|article|head|!doctype)\b", re.I)
_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
         "head", "nav", "footer", "form", "button", "canvas")
_BLOCK = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
          "article", "blockquote", "pre", "figcaption", "header", "table", "ul", "ol", "dd",
          "dt")


@dataclass(frozen=True)
class Article:
    path: Path
    text: str
    title: str | None
    sha256: str
    fmt: str  # "text" | "markdown" | "html" | "pdf"
    published: date | None  # the article's own date when it states one


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for bom, enc in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if raw.startswith(bom):
            return raw[2:].decode(enc, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:2_000_000]).best()
    if best is None:
        raise InputFileError(f"{path}: the text encoding cannot be recognised: save it as UTF-8")
    return str(raw.decode(best.encoding, errors="replace"))


def _is_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if not head:
        return False
    if b"\x00" in head and not (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        return True
    ctrl = sum(1 for b in head if b < 9 or 13 < b < 32)
    return ctrl / len(head) > 0.05


def _html_text(markup: str) -> tuple[str, str | None, date | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    published = None
    for meta in soup.find_all("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "")
        if str(key).lower() in {"article:published_time", "datepublished", "date", "dc.date",
                                "pubdate", "og:published_time"}:
            published = _iso_date(str(meta.get("content") or ""))
            if published:
                break
    if published is None:
        t = soup.find("time")
        if t is not None and t.get("datetime"):
            published = _iso_date(str(t.get("datetime")))
    for tag in soup(list(_DROP)):
        tag.decompose()
    for tag in soup.find_all(_BLOCK):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    if title is None:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else None
    return text, title, published


def _iso_date(text: str) -> date | None:
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _pdf_text(path: Path) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:
        raise InputFileError(f"{path} is a PDF: install sitewatch[pdf] (pypdf) to read it, "
                             "or give the text") from exc
    try:
        reader = PdfReader(str(path))
        return "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise InputFileError(f"{path} is not a readable PDF ({exc}): give the text") from exc


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _markdown_text(text: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)  # images -> alt text
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links -> their text
    text = re.sub(r"^#{1,6}\s*", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"(?<![\w*])[*_](?!\s)(.+?)(?<!\s)[*_](?![\w*])", r"\1", text)


def _first_line_title(text: str) -> str | None:
    for line in text.splitlines():
        line = line.strip()
        if line:
            if len(line) <= 120:
                return line
            cut = line[:120].rsplit(" ", 1)[0]
            return cut + "…"
    return None


def _stated_date(text: str) -> date | None:
    """A publication date stated near the top ("Published 25 November 2024", an ISO date)."""
    import dateparser

    head = text[:600]
    m = re.search(r"(?:published|updated|posted|dated?)\s*:?\s*([^\n]{6,40})", head, re.I)
    if m:
        found = dateparser.parse(m.group(1), languages=["en"],
                                 settings={"STRICT_PARSING": True})
        if found:
            return found.date()
    return _iso_date(head[:200])


def read_article(path: Path | str, max_bytes: int = MAX_BYTES) -> Article:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"article {p} does not exist: check the path")
    if p.is_dir():
        raise InputFileError(f"{p} is a directory: give a text, Markdown, HTML or PDF file")
    size = p.stat().st_size
    if size > max_bytes:
        raise InputFileError(f"article {p} is {size / 1024**2:.0f} MiB, over the "
                             f"{max_bytes / 1024**2:.0f} MiB limit: split it or give the text")
    raw = p.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise InputFileError(f"article {p} is empty: give a file with text")
    suffix = p.suffix.lower()
    if raw.startswith(b"%PDF") or suffix == ".pdf":
        text = _tidy(_pdf_text(p))
        if not text:
            raise InputFileError(f"{p} has no extractable text (a scanned PDF?): OCR it first")
        return Article(p, text, _first_line_title(text), digest, "pdf", _stated_date(text))
    if _is_binary(raw):
        raise InputFileError(f"{p} is a binary file, not an article: give text, Markdown, "
                             "HTML or PDF")
    decoded = _decode(raw, p)
    if suffix in {".html", ".htm", ".xhtml"} or _HTML_HINT.search(raw[:4096]):
        body, title, published = _html_text(decoded)
        text = _tidy(body)
        return Article(p, text, title or _first_line_title(text), digest, "html",
                       published or _stated_date(text))
    if suffix in {".md", ".markdown"}:
        text = _tidy(_markdown_text(decoded))
        return Article(p, text, _first_line_title(text), digest, "markdown", _stated_date(text))
    # plain text is kept exactly as decoded, so that offsets point into the file itself
    return Article(p, decoded, _first_line_title(decoded), digest, "text",
                   _stated_date(decoded))
