"""Fails when two modules of the Rust crate (`src/`) import each other, directly or round a circle.

A module is one file. An edge A -> B is any path in A that names an item of B: `use` trees,
`crate::…`/`super::…`/`self::…` paths and macro calls, and paths through names A imported or
child modules it declares. A name a module re-exports (`pub use child::Item`) resolves to the file
that defines it, so `mod.rs` re-exporting its children is no cycle. Declaring a child (`mod x;`)
is no edge; test-only modules (`#[cfg(test)]`, inline or in their own file) are left out.

Usage: python scripts/module_cycles.py [SRC_DIR]   (exit 1 and the cycles on stderr if any)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text: str) -> str:
    """The code without comments, string literals and `#[cfg(test)] mod tests { … }` blocks."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'b?r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r"b?'(?:\\.|[^\\'])'", "' '", text)
    text = re.sub(r'b?"(?:\\.|[^"\\])*"', '""', text, flags=re.S)
    # Inline test modules only test their own file.
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+" + IDENT + r"\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


class Module:
    def __init__(self, path: tuple[str, ...], file: Path, code: str):
        self.path = path  # module path from the crate root, () for lib.rs
        self.file = file
        self.code = code
        self.children: dict[str, tuple[str, ...]] = {}
        self.uses: list[tuple[list[str], str, bool]] = []  # (path, local name, is pub)
        self.macros: set[str] = set()


def parse_use_tree(tree: str, prefix: list[str]) -> list[tuple[list[str], str]]:
    """`a::{b, c::d as e, self}` -> [(path, name bound)]."""
    tree = tree.strip()
    results: list[tuple[list[str], str]] = []
    brace = tree.find("{")
    if brace >= 0 and tree.endswith("}"):
        head = [s for s in tree[:brace].split("::") if s.strip()]
        inner, parts, depth, cur = tree[brace + 1 : -1], [], 0, ""
        for ch in inner:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        for p in parts:
            if p.strip():
                results += parse_use_tree(p, prefix + [h.strip() for h in head])
        return results
    name = None
    m = re.match(r"(.*?)\s+as\s+(" + IDENT + r")$", tree)
    if m:
        tree, name = m.group(1), m.group(2)
    segs = prefix + [s.strip() for s in tree.split("::") if s.strip()]
    if segs and segs[-1] == "self":
        segs = segs[:-1]
    if not segs:
        return results
    results.append((segs, name or segs[-1]))
    return results


def load(src: Path) -> dict[tuple[str, ...], Module]:
    modules: dict[tuple[str, ...], Module] = {}

    def visit(path: tuple[str, ...], file: Path) -> None:
        code = strip(file.read_text())
        mod = modules[path] = Module(path, file, code)
        folder = file.parent if file.name in ("mod.rs", "lib.rs") else file.with_suffix("")
        decl = r"^(\s*#\[cfg\(test\)\])?\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;"
        for m in re.finditer(decl, code, re.M):
            if m.group(1):
                continue  # test-only modules are not part of the built crate
            name = m.group(2)
            child = folder / f"{name}.rs"
            if not child.exists():
                child = folder / name / "mod.rs"
            mod.children[name] = path + (name,)
            visit(path + (name,), child)
        for m in re.finditer(r"macro_rules!\s*(" + IDENT + ")", code):
            mod.macros.add(m.group(1))
        for m in re.finditer(r"(^|[;{}\s])(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", code):
            for segs, name in parse_use_tree(m.group(3), []):
                mod.uses.append((segs, name, bool(m.group(2))))

    visit((), src / "lib.rs")
    return modules


class Graph:
    def __init__(self, modules: dict[tuple[str, ...], Module]):
        self.modules = modules
        self.exported_macros = {
            name: path
            for path, mod in modules.items()
            for name in mod.macros
            if re.search(r"#\[macro_export\]\s*macro_rules!\s*" + name + r"\b", mod.code)
        }

    def absolute(self, mod: Module, segs: list[str], depth: int = 0) -> list[str] | None:
        """The path from the crate root, or None for another crate's path."""
        head, rest = segs[0], segs[1:]
        if head == "crate":
            return rest
        if head in ("self", "super"):
            base = list(mod.path)
            while segs and segs[0] in ("self", "super"):
                if segs[0] == "super":
                    base = base[:-1]
                segs = segs[1:]
            return base + segs
        if head in mod.children:
            return list(mod.path) + segs
        if depth > 8:
            return None
        for used, bound, _ in mod.uses:
            # `use std::x;` binds `x` from another crate; `use pyo3;` names the crate itself.
            if bound == head and used != [head]:
                full = self.absolute(mod, used, depth + 1)
                return None if full is None else full + rest
        return None

    def target(self, segs: list[str], seen: frozenset = frozenset()) -> tuple[str, ...] | None:
        """The file (module path) that defines what the absolute path `segs` names."""
        path: tuple[str, ...] = ()
        for i, seg in enumerate(segs):
            mod = self.modules[path]
            if seg in mod.children:
                path = mod.children[seg]
                continue
            if i == 0 and seg in self.exported_macros:
                return self.exported_macros[seg]
            # An item of `path`: follow it if the module re-exports it from elsewhere.
            key = (path, seg)
            if key not in seen:
                for used, name, _ in mod.uses:
                    if name == seg or name == "*":
                        full = self.absolute(mod, used)
                        if full is None:
                            continue
                        if name == "*":
                            t = self.target(full + [seg], seen | {key})
                            if t is not None and t != path and self.defines(t, seg):
                                return t
                            continue
                        return self.target(full + segs[i + 1 :], seen | {key}) or path
            return path
        return path

    def defines(self, path: tuple[str, ...], name: str) -> bool:
        code = self.modules[path].code
        return bool(re.search(r"\b(?:fn|struct|enum|trait|type|const|static|mod)\s+" + name + r"\b", code))

    def edges(self) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
        out: dict[tuple[str, ...], set[tuple[str, ...]]] = {p: set() for p in self.modules}
        for path, mod in self.modules.items():
            refs = [used for used, _, _ in mod.uses]
            local_names = set(mod.children) | {n for _, n, _ in mod.uses} | {"crate", "self", "super"}
            for m in re.finditer(r"(?<![A-Za-z0-9_:])(" + IDENT + r"(?:\s*::\s*" + IDENT + r")+)(!?)", mod.code):
                segs = [s.strip() for s in m.group(1).split("::")]
                if segs[0] in local_names:
                    refs.append(segs)
            for segs in refs:
                full = self.absolute(mod, segs)
                if full is None:
                    continue
                t = self.target(full)
                if t is not None and t != path:
                    out[path].add(t)
        return out



def cycles(edges: dict[tuple[str, ...], set[tuple[str, ...]]]) -> list[list[tuple[str, ...]]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict = {}
    low: dict = {}
    stack: list = []
    on: set = set()
    found: list = []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                strong(w)
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
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return found


def name(path: tuple[str, ...]) -> str:
    return "crate::" + "::".join(path) if path else "crate"


def collapse(edges, depth: int):
    """The graph of folders `depth` deep: each module counts as its first `depth` path parts."""
    out: dict = {}
    for a, targets in edges.items():
        out.setdefault(a[:depth], set())
        for b in targets:
            out.setdefault(b[:depth], set())
            if a[:depth] != b[:depth]:
                out[a[:depth]].add(b[:depth])
    return out


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if a != "-v"]
    src = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "src"
    edges = Graph(load(src)).edges()
    deepest = max(len(p) for p in edges)
    failed = False
    reported: set = set()
    # Folders first (a cycle between components shows as one), then ever finer, then files.
    for depth in range(1, deepest + 1):
        graph = collapse(edges, depth)
        for comp in cycles(graph):
            members = set(comp)
            lines = [
                f"  {name(a)} -> {name(b)}" for a in comp for b in sorted(graph[a]) if b in members
            ]
            if tuple(lines) in reported:
                continue
            reported.add(tuple(lines))
            failed = True
            print("modules that import each other:\n" + "\n".join(lines), file=sys.stderr)
    if "-v" in argv:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f"{name(a)} -> {name(b)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
