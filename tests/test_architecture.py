"""The layout rules `make lint` enforces: no two modules of `src/` use each other (directly or
round a circle), and the `mite._native` stubs name exactly what the built module has."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CYCLES = ROOT / "scripts" / "module_cycles.py"
STUBS = ROOT / "scripts" / "check_stubs.py"


def _run(*args):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_src_has_no_module_cycles():
    done = _run(CYCLES, ROOT / "src")
    assert done.returncode == 0, done.stderr


def _crate(tmp_path, files):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_a_cycle_between_files_fails(tmp_path):
    src = _crate(
        tmp_path,
        {
            "lib.rs": "pub mod a;\n",
            "a/mod.rs": "mod x;\nmod y;\npub use x::X;\n",
            "a/x.rs": "use super::y::Y;\npub struct X(Y);\n",
            "a/y.rs": "pub struct Y;\nfn f() -> super::X { todo!() }\n",
        },
    )
    done = _run(CYCLES, src)
    assert done.returncode == 1
    assert "crate::a::x -> crate::a::y" in done.stderr
    assert "crate::a::y -> crate::a::x" in done.stderr


def test_a_cycle_between_folders_fails(tmp_path):
    # No two files use each other, but the folders do: bus -> collector -> bus.
    src = _crate(
        tmp_path,
        {
            "lib.rs": "pub mod bus;\npub mod collector;\n",
            "bus/mod.rs": "pub mod fmt;\npub mod scan;\n",
            "bus/fmt.rs": "use crate::collector::json::repr;\n",
            "bus/scan.rs": "pub fn scan() {}\n",
            "collector/mod.rs": "pub mod json;\n",
            "collector/json.rs": "pub fn repr() { crate::bus::scan::scan() }\n",
        },
    )
    done = _run(CYCLES, src)
    assert done.returncode == 1
    assert "crate::bus -> crate::collector" in done.stderr


def test_re_exports_and_test_modules_are_no_cycle(tmp_path):
    src = _crate(
        tmp_path,
        {
            "lib.rs": "pub mod a;\n",
            "a/mod.rs": "mod x;\n#[cfg(test)]\nmod tests;\npub use x::X;\npub fn g() -> X { X }\n",
            "a/x.rs": "pub struct X;\n",
            "a/tests.rs": "use super::*;\n",
        },
    )
    done = _run(CYCLES, src)
    assert done.returncode == 0, done.stderr


def test_stubs_match_the_module():
    done = _run(STUBS)
    assert done.returncode == 0, done.stderr


def test_a_stub_missing_a_method_fails(tmp_path):
    stub = (ROOT / "python" / "mite" / "_native.pyi").read_text()
    assert "    def drain(self) -> None: ...\n" in stub
    broken = tmp_path / "_native.pyi"
    broken.write_text(stub.replace("    def drain(self) -> None: ...\n", ""))
    done = _run(STUBS, broken)
    assert done.returncode == 1
    assert "CurlEngine.drain is missing from the stub" in done.stderr


def test_one_missing_extra_error_with_one_exit_status():
    """Every optional library's absence is the same class, mapped to exit 1 in one place."""
    import mite.otel
    import mite_browser._extra
    import mite_playwright._extra
    import mite_selenium._extra
    from mite._extras import MissingExtraError
    from mite.cli.commands import EXIT_FAILURE, exit_status

    for module in (mite.otel, mite_browser._extra, mite_playwright._extra, mite_selenium._extra):
        assert module.MissingExtraError is MissingExtraError, module.__name__
    err = MissingExtraError('x needs y, which is not installed: pip install "mite[y]"', name="y")
    assert isinstance(err, ModuleNotFoundError)
    assert exit_status(err) == EXIT_FAILURE == 1
