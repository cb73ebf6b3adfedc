"""Write docs/modules.md, the package's module map, from the code's own imports.

    python tools/module_map.py            # rewrite docs/modules.md
    python tools/module_map.py --check    # exit 1 when docs/modules.md is not what the code says

Every import counts, at the top of a module or inside a function (``if TYPE_CHECKING:`` ones too):
a function-level import ties two modules as much as a top-level one. tests/test_layout.py holds the
package to the rules below with the same reader, and checks that docs/modules.md is up to date.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "aivad"
OUTPUT = ROOT / "docs" / "modules.md"

# The stages in the order a frame meets them, and the stages each one may import. training and live
# both stand on the model and never import each other: the window never trains, training never watches.
STAGES = ("video", "features", "model", "training", "live", "ui", "benchmark")
MAY_IMPORT = {
    "video": (),
    "features": ("video",),
    "model": ("features", "video"),
    "training": ("model", "features", "video"),
    "live": ("model", "features", "video"),
    "ui": ("live", "model", "features", "video"),
    "benchmark": ("training", "live", "model", "features", "video"),  # reproducing the paper: trains and scores
}
# Top-level modules: the command line above every stage (but the window), and plumbing that any
# module may use because it imports no stage.
ENTRY = ("__main__", "cli")
SHARED = ("__init__", "errors", "console", "devices")
MAX_TOP_LEVEL_MODULES = 8
MAX_LINES = 400


@dataclass
class Module:
    name: str  # dotted: aivad.live.detector
    path: Path
    lines: int
    summary: str  # the docstring's first sentence or paragraph, on one line
    docstring: str
    imports: set[str] = field(default_factory=set)  # dotted names of this package's modules it imports

    @property
    def stage(self) -> str:
        """The stage folder it lies in, or "" for a top-level module."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 and parts[1] in STAGES else ""

    @property
    def file(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def read_modules(root: Path = ROOT) -> dict[str, Module]:
    """Every module of the package with its docstring, length and imports of the package's own modules."""
    trees, modules = {}, {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        doc = ast.get_docstring(tree) or ""
        name = module_name(path, root)
        trees[name] = (tree, path.name == "__init__.py")
        summary = " ".join(doc.strip().split("\n\n")[0].split())  # the first paragraph, on one line
        modules[name] = Module(name, path, len(text.splitlines()), summary, doc)
    for name, (tree, is_package) in trees.items():
        modules[name].imports = imports_of(tree, name, is_package, set(modules)) - {name}
    return modules


def imports_of(tree: ast.AST, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The package's modules that ``tree`` imports anywhere in its body (``from X import Y``: Y when Y is a module)."""
    found = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(_nearest_module(alias.name, known))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in known else _nearest_module(base, known))
    return {module for module in found if module}


def _nearest_module(dotted: str, known: set[str]) -> str:
    """``aivad.live.detector.Detector`` -> ``aivad.live.detector``; "" for other packages."""
    parts = dotted.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return ""


def stage_imports(modules: dict[str, Module], of: list[Module]) -> list[str]:
    """The stages other than their own that the given modules import, in pipeline order."""
    own = {module.stage for module in of}
    used = {modules[target].stage for module in of for target in module.imports}
    return [stage for stage in reversed(STAGES) if stage in used and stage not in own]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan), each sorted."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph) + 100))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def stage_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """Stage -> the other stages its modules import."""
    graph: dict[str, set[str]] = {stage: set() for stage in STAGES}
    for module in modules.values():
        if module.stage:
            graph[module.stage] |= {modules[t].stage for t in module.imports if modules[t].stage} - {module.stage}
    return graph


def render(modules: dict[str, Module]) -> str:
    """docs/modules.md's text."""
    top = [m for m in modules.values() if not m.stage and m.name != PACKAGE]
    width = max(len(m.path.name) for m in modules.values()) + 2
    out = [
        "# Module map",
        "",
        "Generated from the code's imports by `python tools/module_map.py`; do not edit it by hand",
        "(`tests/test_layout.py` fails when it is out of date). Every import counts, function-level ones too.",
        "",
        "The package is cut by stage, in the order a frame meets them. Each stage imports only the stages",
        "below it here; `training` and `live` both stand on `model` and never import each other.",
        "",
        "```text",
    ]
    for stage in reversed(STAGES):
        members = [m for m in modules.values() if m.stage == stage]
        targets = stage_imports(modules, members)
        out.append(f"aivad/{stage + '/':<10} -> {', '.join(targets) if targets else '(no other stage)'}")
    entry = [m for m in top if m.path.stem in ENTRY]
    out += [
        "",
        f"top level: {', '.join(m.path.name for m in entry)} (the command line) -> "
        + ", ".join(stage_imports(modules, entry)),
        f"shared by every stage: {', '.join(m.path.name for m in top if m.path.stem in SHARED)}",
        "```",
        "",
        "Each folder with its modules: lines, the other stages the module imports, and its docstring's first line.",
        "",
        "```text",
        "aivad/",
    ]
    for module in sorted(top, key=lambda m: m.path.name):
        out.append(_row("├── ", module, modules, width))
    for stage in STAGES:
        members = sorted((m for m in modules.values() if m.stage == stage), key=lambda m: m.path.name)
        package = next(m for m in members if m.path.name == "__init__.py")
        targets = stage_imports(modules, members)
        out.append(f"├── {stage}/  -> {', '.join(targets) if targets else '(no other stage)'}")
        for line in package.docstring.split("\n"):
            out.append(f"│   # {line.strip()}".rstrip())
        for module in members:
            if module is not package:
                out.append(_row("│   ├── ", module, modules, width))
    out += ["```", ""]
    return "\n".join(out)


def _row(prefix: str, module: Module, modules: dict[str, Module], width: int) -> str:
    targets = ", ".join(stage_imports(modules, [module]))
    arrow = f"-> {targets}" if targets else ""
    return f"{prefix}{module.path.name:<{width}}{module.lines:>4}  {arrow:<32} {module.summary}".rstrip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write docs/modules.md from the package's imports.")
    parser.add_argument("--check", action="store_true", help="only say whether docs/modules.md is up to date")
    args = parser.parse_args(argv)
    text = render(read_modules())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python tools/module_map.py")
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
