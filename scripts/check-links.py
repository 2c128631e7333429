#!/usr/bin/env python3
"""Checks every relative link and every anchor in the repository's Markdown.

Usage: check-links.py [ROOT]

ROOT is the repository (default: the directory above this script). The files
checked are every *.md at ROOT's top level (README.md, ...) and every *.md
under docs/, examples/ and scripts/, skipping target/, .tools/,
node_modules/ and .git/.

In each file, outside fenced code blocks (``` and ~~~) and inline code spans,
every inline link or image, [text](target) and ![alt](target), and every
reference definition, [label]: target, is checked:

- a relative target must be an existing file or directory, inside ROOT and
  not inside a build or tool directory (target/, .tools/, node_modules/);
  a target starting with / is taken from ROOT, as GitHub does;
- a target with #anchor, to the same file (#anchor) or to another Markdown
  file (guide.md#anchor), must name an anchor of that file: a heading's
  GitHub slug (lower case; punctuation dropped except - and _; each space a
  -; the second heading with the same slug gets -1, the third -2, ...) or an
  explicit <a id="..."> / <a name="...">. Anchors on other kinds of file
  (source, JSON) are not checked.

Links with a scheme (http:, https:, mailto:, ...) are not checked: the check
runs offline. Each broken link is printed as `file:line: target — reason`,
then a summary; the exit status is 1 if any link is broken, else 0.
Standard library only.
"""

import html
import os
import re
import sys
import unicodedata
import urllib.parse

SKIP_DIRS = {"target", ".tools", "node_modules", ".git"}
SUBTREES = ("docs", "examples", "scripts")

FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")  # any indent: fences in list items too
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
REF_DEF = re.compile(r"^ {0,3}\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*(<[^>\n]*>|\S+)")
HTML_ANCHOR = re.compile(
    r"<a\b[^>]*?\b(?:id|name)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.IGNORECASE
)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
CODE_RUN = re.compile(r"`+")


def markdown_files(root):
    """The files to check, as paths relative to root, sorted."""
    found = []
    for name in sorted(os.listdir(root)):
        if name.endswith(".md") and os.path.isfile(os.path.join(root, name)):
            found.append(name)
    for top in SUBTREES:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames):
                if name.endswith(".md"):
                    found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def blank_code_spans(text):
    """text with every inline code span's content (backticks included)
    replaced by spaces, newlines kept, so offsets and lines stay put."""
    out = list(text)
    pos = 0
    while True:
        opening = CODE_RUN.search(text, pos)
        if not opening:
            break
        width = len(opening.group())
        closing = None
        for candidate in CODE_RUN.finditer(text, opening.end()):
            if len(candidate.group()) == width:
                closing = candidate
                break
        if closing is None:
            # An unmatched run is literal backticks.
            pos = opening.end()
            continue
        for i in range(opening.start(), closing.end()):
            if out[i] != "\n":
                out[i] = " "
        pos = closing.end()
    return "".join(out)


def blocks(lines):
    """Yields (first line number, [lines]) for each run of non-blank lines
    outside fenced code blocks; fence lines and their contents are left out."""
    fence = None
    block, start = [], 0
    for number, line in enumerate(lines, 1):
        marker = FENCE.match(line)
        if fence is not None:
            # Closed by a run of the same character, at least as long, alone.
            run = marker.group(1) if marker else ""
            if run[:1] == fence[0] and len(run) >= len(fence) and line.strip() == run:
                fence = None
            continue
        if marker:
            if block:
                yield start, block
                block = []
            fence = marker.group(1)
            continue
        if not line.strip():
            if block:
                yield start, block
                block = []
            continue
        if not block:
            start = number
        block.append(line)
    if block:
        yield start, block


def heading_text_to_slug(text):
    """GitHub's slug of a heading's text (as github-slugger makes it from
    the rendered heading)."""
    text = re.sub(r"(?:^|[ \t]+)#+[ \t]*$", "", text).strip()  # closing #s
    # Render the inline Markdown the way it reads: code spans keep their
    # content, links and images their text, HTML tags go, emphasis goes.
    pieces = []
    pos = 0
    for span in re.finditer(r"(`+)(.+?)\1", text):
        pieces.append(("md", text[pos:span.start()]))
        pieces.append(("code", span.group(2).strip()))
        pos = span.end()
    pieces.append(("md", text[pos:]))
    rendered = []
    for kind, piece in pieces:
        if kind == "md":
            piece = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", piece)
            piece = re.sub(r"!?\[([^\]]*)\]\[[^\]]*\]", r"\1", piece)
            piece = re.sub(r"<[^>]+>", "", piece)
            piece = re.sub(r"[*~]", "", piece)
            piece = re.sub(r"(?<![0-9A-Za-z])_+|_+(?![0-9A-Za-z])", "", piece)
            piece = re.sub(r"\\(.)", r"\1", piece)
            piece = html.unescape(piece)
        rendered.append(piece)
    slug = []
    for ch in "".join(rendered).strip().lower():
        if ch in "-_ " or ch.isalnum() or unicodedata.category(ch) in ("Mn", "Mc", "Me", "Pc"):
            slug.append("-" if ch == " " else ch)
    return "".join(slug)


def anchors_of(path, cache):
    """The anchors a Markdown file defines: heading slugs (duplicates
    numbered as GitHub numbers them) and explicit <a id/name>."""
    if path in cache:
        return cache[path]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found = set()
    counts = {}

    def add_heading(text):
        slug = heading_text_to_slug(text)
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")

    for _, block in blocks(lines):
        paragraph = []
        for line in block:
            atx = ATX.match(line)
            setext = SETEXT.match(line)
            if atx:
                add_heading(atx.group(2) or "")
                paragraph = []
            elif setext and paragraph:
                # Text underlined with === or --- is a heading (level 1, 2).
                add_heading(" ".join(p.strip() for p in paragraph))
                paragraph = []
            else:
                paragraph.append(line)
            for m in HTML_ANCHOR.finditer(blank_code_spans(line)):
                found.add(m.group(1) if m.group(1) is not None else m.group(2))
    cache[path] = found
    return found


def link_targets(text):
    """Yields (offset, target) for every inline link or image in text, whose
    code spans are already blanked. Handles nested brackets in the text
    (one level), <angle-bracketed> targets and titles."""
    for m in re.finditer(r"\]\(", text):
        # The link text: back from "]" to its "[", one level of nesting.
        depth, i = 0, m.start() - 1
        while i >= 0:
            if text[i] == "]" and (i == 0 or text[i - 1] != "\\"):
                depth += 1
            elif text[i] == "[" and (i == 0 or text[i - 1] != "\\"):
                if depth == 0:
                    break
                depth -= 1
            i -= 1
        if i < 0:
            continue
        j = m.end()
        while j < len(text) and text[j] in " \t\n":
            j += 1
        if j < len(text) and text[j] == "<":
            end = text.find(">", j)
            if end < 0:
                continue
            yield j, text[j + 1:end]
            continue
        start, parens = j, 0
        while j < len(text):
            ch = text[j]
            if ch == "\\" and j + 1 < len(text):
                j += 2
                continue
            if ch in " \t\n":
                break
            if ch == "(":
                parens += 1
            elif ch == ")":
                if parens == 0:
                    break
                parens -= 1
            j += 1
        yield start, text[start:j]


def check_target(root, source, target, cache):
    """None if target is fine, else the reason it is broken."""
    if not target:
        return "empty link target"
    if SCHEME.match(target) or target.startswith("//"):
        return None
    path_part, _, anchor = target.partition("#")
    path_part = urllib.parse.unquote(path_part)
    anchor = urllib.parse.unquote(anchor)
    source_abs = os.path.join(root, source)
    if path_part:
        if path_part.startswith("/"):
            resolved = os.path.normpath(os.path.join(root, path_part.lstrip("/")))
        else:
            resolved = os.path.normpath(os.path.join(os.path.dirname(source_abs), path_part))
        inside = os.path.relpath(resolved, root)
        if inside == ".." or inside.startswith(".." + os.sep):
            return "points outside the repository"
        if inside.split(os.sep)[0] in SKIP_DIRS:
            return f"points into {inside.split(os.sep)[0]}/, which is not in the repository"
        if not os.path.exists(resolved):
            return "no such file or directory"
    else:
        resolved = source_abs
    if "#" not in target:
        return None
    if os.path.isdir(resolved):
        readme = os.path.join(resolved, "README.md")
        if not os.path.isfile(readme):
            return None
        resolved = readme
    if not resolved.endswith(".md"):
        return None
    if not anchor:
        return None
    anchors = anchors_of(resolved, cache)
    if anchor in anchors:
        return None
    shown = os.path.relpath(resolved, root)
    close = [a for a in sorted(anchors) if anchor.lower() in a or a in anchor.lower()]
    hint = f" (did you mean #{close[0]}?)" if close else ""
    return f"no heading or anchor #{anchor} in {shown}{hint}"


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    root = os.path.abspath(argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(__file__), ".."))
    cache = {}
    checked = anchored = broken = 0
    files = markdown_files(root)
    for source in files:
        with open(os.path.join(root, source), encoding="utf-8") as f:
            lines = f.read().split("\n")
        for first, block in blocks(lines):
            text = blank_code_spans("\n".join(block))
            found = [(off, t) for off, t in link_targets(text)]
            offset = 0
            for line in text.split("\n"):
                ref = REF_DEF.match(line)
                if ref:
                    found.append((offset + ref.start(2), ref.group(2).strip("<>")))
                offset += len(line) + 1
            for off, target in sorted(found):
                if SCHEME.match(target) or target.startswith("//"):
                    continue
                checked += 1
                anchored += "#" in target
                reason = check_target(root, source, target, cache)
                if reason:
                    broken += 1
                    line = first + text.count("\n", 0, off)
                    print(f"{source}:{line}: {target} — {reason}")
    print(
        f"check-links: {checked} relative links ({anchored} with an anchor) in "
        f"{len(files)} Markdown files: {broken} broken"
    )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
