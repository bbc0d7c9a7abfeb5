#!/usr/bin/env python3
"""Fails when the modules of a crate depend on each other in a cycle.

    scripts/check-module-cycles.py [CRATE_DIR...]   (default: every workspace crate)

A module *uses* another when its code names a path into it: `use crate::a::b::X`,
`super::X`, `self::child::Y`, a bare `child::Z` (a path starting at one of its
own child modules), or a `pub use` re-export. Declaring a child (`mod child;`)
is not a use. Every module is a node, parents and children included, so a
parent that re-exports a child's item while the child reads the parent's
(`super::Settings`) is a cycle, as cargo-modules' `dependencies --acyclic`
counts it. Doc comments, comments and string literals are ignored.

Exits 1 and prints each cycle (a strongly connected component, with the edges
inside it and the file:line of each) when there is one; 0 otherwise.
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict

WORKSPACE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def strip_comments_and_strings(text: str) -> str:
    """Blanks comments and string/char literals, keeping line breaks."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
            continue
        m = re.match(r'b?r(#*)"', text[i:])
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append("\n" * text.count("\n", i, j))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append("\n" * text.count("\n", i, j))
            i = j + 1
            continue
        if c == "'":
            # A char literal ('a', '\n', '\u{..}'), not a lifetime ('a).
            m = re.match(r"'(\\.[^']*|[^'\\])'", text[i:])
            if m:
                i += m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def module_files(src: str) -> dict[tuple[str, ...], str]:
    """Module path (tuple of names, () for the crate root) -> file."""
    modules: dict[tuple[str, ...], str] = {}
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[0] == "bin":
                continue  # binaries are crates of their own
            if rel[-1] in ("lib", "main", "mod"):
                rel = rel[:-1]
            modules[tuple(rel)] = path
    return modules


def expand_use_tree(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (aliases, globs, self dropped)."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    result: list[str] = []

    def walk(prefix: str, t: str) -> None:
        depth, start, parts = 0, 0, []
        for k, ch in enumerate(t):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(t[start:k])
                start = k + 1
        parts.append(t[start:])
        for p in filter(None, parts):
            b = p.find("{")
            if b >= 0:
                walk(prefix + p[:b], p[b + 1 : p.rfind("}")])
            else:
                result.append((prefix + p).removesuffix("::self"))

    walk("", tree)
    return result


USE = re.compile(r"\b(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.S)
PATH = re.compile(r"(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)+)")


def resolve(module: tuple[str, ...], segments: list[str], modules: set, reexports=None, depth=0):
    """The module a path starting in `module` lands in, or None (external)."""
    if not segments:
        return None
    head = segments[0]
    if head == "crate":
        base, rest = (), segments[1:]
    elif head == "super":
        base, rest = module, segments
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    elif head == "self":
        base, rest = module, segments[1:]
    elif module + (head,) in modules:
        base, rest = module, segments
    elif module == () and (head,) in modules:
        base, rest = (), segments
    else:
        return None  # another crate, std, or a local item
    target, k = base, 0
    while k < len(rest) and target + (rest[k],) in modules:
        target, k = target + (rest[k],), k + 1
    # `crate::Error` where the root only re-exports `error::Error`: the use
    # lands in the module that defines the item, not in the re-exporter.
    if k < len(rest) and reexports is not None and depth < 8:
        for alias, (origin, segs) in reexports.get(target, {}).items():
            if alias == rest[k] or (alias == "*" and glob_has(origin, segs, rest[k], modules, reexports)):
                found = resolve(origin, segs if alias != "*" else segs + [rest[k]], modules, reexports, depth + 1)
                if found is not None:
                    return found
    return target


def glob_has(origin, segs, item, modules, reexports) -> bool:
    """Whether `pub use segs::*` (in `origin`) can provide `item`: the glob's
    module defines or re-exports it (approximated: it is not a module of ours
    that lacks it)."""
    target = resolve(origin, segs, modules, reexports, 8)
    if target is None:
        return False
    return item in DEFINED.get(target, set()) or item in reexports.get(target, {})


DEFINED: dict[tuple, set] = {}
ITEM = re.compile(r"\b(?:struct|enum|trait|fn|type|const|static|union|macro_rules!)\s+([A-Za-z_]\w*)")
PUB_USE = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", re.S)


def module_text(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        text = strip_comments_and_strings(fh.read())
    # Inline `#[cfg(test)] mod tests { ... }` blocks use their parent
    # freely; they are test code, not part of the module graph.
    cut = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    return text[: cut.start()] if cut else text


def crate_edges(src: str):
    modules = module_files(src)
    names = set(modules)
    texts = {m: module_text(p) for m, p in modules.items()}
    DEFINED.clear()
    reexports: dict[tuple, dict[str, tuple]] = defaultdict(dict)
    for module, text in texts.items():
        DEFINED[module] = set(ITEM.findall(text))
        for m in PUB_USE.finditer(text):
            for p in expand_use_tree(m.group(1).replace("::*", "::__GLOB__")):
                segs = p.split("::")
                if segs[-1] == "__GLOB__":
                    reexports[module]["*"] = (module, segs[:-1])
                else:
                    reexports[module][segs[-1]] = (module, segs)
    edges: dict[tuple, dict[tuple, str]] = defaultdict(dict)
    for module, path in modules.items():
        text = texts[module]
        found: list[tuple[str, int]] = []
        for m in USE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            for p in expand_use_tree(m.group(1)):
                found.append((p.removesuffix("::*"), line))
        body = USE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
        for m in PATH.finditer(body):
            found.append((re.sub(r"\s+", "", m.group(1)), body.count("\n", 0, m.start()) + 1))
        for p, line in found:
            target = resolve(module, p.split("::"), names, reexports)
            if target is not None and target != module:
                # A module nested in this one is part of it for this purpose
                # only when it is this module's own child used by path
                # (parent -> child is an edge like any other).
                edges[module].setdefault(target, f"{os.path.relpath(path, WORKSPACE)}:{line}")
    return names, edges


def cycles(names, edges):
    """Tarjan's strongly connected components with more than one module."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(names):
        if v not in index:
            visit(v)
    return out


def workspace_crates() -> list[str]:
    crates = []
    for entry in sorted(os.listdir(WORKSPACE)):
        d = os.path.join(WORKSPACE, entry)
        if entry in ("bench", "fuzz", "target") or entry.startswith("."):
            continue
        if os.path.isfile(os.path.join(d, "Cargo.toml")) and os.path.isdir(os.path.join(d, "src")):
            crates.append(d)
    if os.path.isdir(os.path.join(WORKSPACE, "src")):
        crates.append(WORKSPACE)
    return crates


def name(module: tuple) -> str:
    return "crate" if not module else "crate::" + "::".join(module)


def main(argv: list[str]) -> int:
    crates = [os.path.abspath(a) for a in argv] or workspace_crates()
    failed = False
    for crate in crates:
        names, edges = crate_edges(os.path.join(crate, "src"))
        label = os.path.relpath(crate, WORKSPACE) if crate != WORKSPACE else "(facade)"
        found = cycles(names, edges)
        if not found:
            print(f"ok: {label}: {len(names)} modules, no cycle")
            continue
        failed = True
        for comp in found:
            print(f"cycle in {label}: {' <-> '.join(name(m) for m in comp)}")
            members = set(comp)
            for a in comp:
                for b, where in sorted(edges.get(a, {}).items()):
                    if b in members:
                        print(f"    {name(a)} -> {name(b)}  ({where})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
