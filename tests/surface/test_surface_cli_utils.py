"""mite.utils.spec_import's one-line errors: only the spec's own module (or a package of it)
missing is reported as the spec's fault."""

import sys

import pytest

from mite.utils import SpecError, spec_import


@pytest.fixture
def modules(tmp_path):
    (tmp_path / "surface_pkg").mkdir()
    (tmp_path / "surface_pkg" / "__init__.py").write_text("")
    (tmp_path / "surface_pkg" / "inner.py").write_text("value = 1\n")
    # A module whose name starts with the name of a module it imports and cannot find.
    (tmp_path / "surface_missing_dep.py").write_text("import surface_missing\n")
    sys.path.insert(0, str(tmp_path))
    yield
    sys.path.remove(str(tmp_path))
    for name in ("surface_pkg", "surface_pkg.inner", "surface_missing_dep"):
        sys.modules.pop(name, None)


def test_missing_spec_modules_are_one_line(modules):
    assert spec_import("surface_pkg.inner:value") == 1
    with pytest.raises(SpecError, match="no module named 'surface_pkg.nothere'"):
        spec_import("surface_pkg.nothere:value")
    with pytest.raises(SpecError, match="no module named 'surface_nopkg'"):
        spec_import("surface_nopkg.inner:value")
    with pytest.raises(SpecError, match="module 'surface_pkg.inner' has no attribute 'other'"):
        spec_import("surface_pkg.inner:other")


def test_a_missing_import_inside_the_module_keeps_its_error(modules):
    with pytest.raises(ModuleNotFoundError) as e:
        spec_import("surface_missing_dep:x")
    assert not isinstance(e.value, SpecError) and e.value.name == "surface_missing"
