"""mite 2.11's own tests of its browser extensions (test/test_webdriver.py,
test_mite_playwright.py, test_mite_browser.py), unmodified, pass against ours as on mite 2.11.0."""

import re
import sys

import browser_support as bs
import pytest

UPSTREAM_FILES = {"test_webdriver.py": 15, "test_mite_playwright.py": 1, "test_mite_browser.py": 11}


@pytest.mark.parametrize("python", ["ours", "ref"])
def test_upstream_browser_extension_tests_pass_unmodified(tmp_path, python):
    interpreter = sys.executable if python == "ours" else bs.REF_VENV / "bin" / "python"
    proc = bs.run_upstream(interpreter, bs.copy_upstream_tests(tmp_path), *UPSTREAM_FILES)
    assert proc.returncode == 0, proc.stdout[-4000:]
    passed = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"PASSED (?:test/)?(test_\w+\.py)::", line)
        if match:
            passed[match[1]] = passed.get(match[1], 0) + 1
    assert passed == UPSTREAM_FILES, proc.stdout[-4000:]
