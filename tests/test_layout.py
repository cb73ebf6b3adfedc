"""The package's layout (issue 25): by stage, small modules, imports one way, and docs/modules.md up to date.

Read from the code with ``ast`` (tools/module_map.py's reader): every import counts, function-level
and ``TYPE_CHECKING`` ones too, so a late import cannot hide an arrow that runs the wrong way.
"""

from __future__ import annotations

import ast

import pytest

from tools import module_map
from tools.module_map import ENTRY, MAX_LINES, MAX_TOP_LEVEL_MODULES, MAY_IMPORT, PACKAGE, ROOT, SHARED, STAGES


@pytest.fixture(scope="module")
def modules():
    return module_map.read_modules()


def test_at_most_eight_modules_at_the_top_level():
    top = sorted(path.name for path in (ROOT / PACKAGE).glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    assert set(path.removesuffix(".py") for path in top) <= set(ENTRY) | set(SHARED), top


def test_every_folder_is_a_stage_with_a_one_paragraph_docstring(modules):
    folders = sorted(p.name for p in (ROOT / PACKAGE).iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(STAGES)
    for stage in STAGES:
        doc = modules[f"{PACKAGE}.{stage}"].docstring
        assert doc and "\n\n" not in doc.strip(), f"aivad/{stage}/__init__.py: one paragraph saying what the stage is"


def test_no_module_over_the_line_limit(modules):
    long = {m.file: m.lines for m in modules.values() if m.lines > MAX_LINES}
    assert not long, f"split these by concern (at most {MAX_LINES} lines): {long}"


def test_every_module_says_what_it_is(modules):
    assert not [m.file for m in modules.values() if not m.summary]


def test_no_import_cycle_between_modules(modules):
    assert module_map.cycles({name: m.imports for name, m in modules.items()}) == []


def test_no_import_cycle_between_stages(modules):
    assert module_map.cycles(module_map.stage_graph(modules)) == []


def test_stages_import_only_the_stages_below_them(modules):
    wrong = []
    for module in modules.values():
        for target in sorted(module.imports):
            other = modules[target]
            if module.stage:
                allowed = other.stage in (module.stage, *MAY_IMPORT[module.stage]) or (
                    not other.stage and other.path.stem in SHARED
                )
            elif module.path.stem in SHARED:
                allowed = not other.stage and other.path.stem in SHARED
            else:  # the command line: anything but the window
                allowed = other.stage != "ui"
            if not allowed:
                wrong.append(f"{module.file} -> {other.file}")
    assert not wrong, "imports against the stage order (docs/modules.md):\n" + "\n".join(wrong)


def test_nothing_outside_the_window_imports_qt(modules):
    qt = []
    for module in modules.values():
        if module.stage == "ui":
            continue
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6") for name in names):
                qt.append(module.file)
    assert not qt, qt


def test_preloaded_modules_exist(modules):
    """preload_model_modules imports by name and forgives failures, so a stale name would only show as a crash."""
    preload = modules[f"{PACKAGE}.ui.preload"]
    names = {
        node.value
        for node in ast.walk(ast.parse(preload.path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(PACKAGE + ".")
    }
    assert names and not names - set(modules), names - set(modules)


def test_module_map_is_up_to_date(modules):
    written = module_map.OUTPUT.read_text(encoding="utf-8")
    assert written == module_map.render(modules), "docs/modules.md is out of date: run python tools/module_map.py"
