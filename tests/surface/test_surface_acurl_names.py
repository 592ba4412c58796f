"""acurl's public names: every name acurl 1.2.1 (installed with mite 2.11.0) exposes is here too,
and `acurl._Response` is the class of what a request returns from a real server."""

import asyncio
import json

from surface_testlog_support import HttpTarget, require_reference, run_script

import acurl

# Module-level imports of acurl 1.2.1's Cython source that leak into its namespace; not API.
INCIDENTAL = {"defaultdict", "dumps", "loads", "shlex", "urlparse", "warnings"}

LIST_NAMES = """
    import json, acurl
    print(json.dumps(sorted(n for n in dir(acurl) if not n.startswith("__"))))
"""


def test_every_acurl_1_2_1_name_is_here(tmp_path):
    proc = run_script(require_reference(), LIST_NAMES, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    reference = set(json.loads(proc.stdout)) - INCIDENTAL
    assert {"_Response", "CurlWrapper", "Session"} <= reference
    missing = sorted(n for n in reference if not hasattr(acurl, n))
    assert missing == []


def test_response_is_an_acurl_response():
    async def fetch(url):
        wrapper = acurl.CurlWrapper(asyncio.get_running_loop())
        try:
            return await wrapper.session().get(url)
        finally:
            wrapper.close()

    with HttpTarget() as target:
        response = asyncio.run(fetch(f"{target.url}/item/9"))
    assert isinstance(response, acurl._Response)
    assert acurl._Response is acurl.Response
    assert (response.status_code, response.json()) == (200, {"id": "9"})


def test_case_insensitive_mixin_name():
    assert issubclass(acurl.CaseInsensitiveDict, acurl._CaseInsensitiveDict)
    assert issubclass(acurl.CaseInsensitiveDefaultDict, acurl._CaseInsensitiveDict)
    d = acurl.CaseInsensitiveDict({"Content-Type": "a"})
    assert d["content-type"] == d["CONTENT-TYPE"] == "a"
