"""`mite har`: a browser's HAR recording turned into a mite journey script (as mite 2.11 writes it)."""

import json
import time

_HAR_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"

_HEADER = (
    "from .utils import check_status_code, check_status_code_in_groups\n"
    "from mite_browser import browser_decorator\n"
    "from mite.exceptions import MiteError\n"
    "from asyncio import sleep\n\n\n"
    "@browser_decorator()\n"
    "async def journey(ctx):\n"
)


def set_expected_status_code(cur_page, entries):
    """The status to check: a 302 whose target was also recorded takes the target's outcome
    (the target's entry is dropped); a 304 accepts 200 too."""
    code = cur_page["response"]["status"]
    groups = ""
    if code == 302 and cur_page["response"]["redirectURL"]:
        for other in entries:
            if cur_page["response"]["redirectURL"] == other["request"]["url"]:
                cur_page["response"]["redirectURL"] = other["response"]["redirectURL"]
                cur_page["response"]["status"] = other["response"]["status"]
                entries.remove(other)
                code, groups = set_expected_status_code(cur_page, entries)
    elif code == 304:
        code, groups = "200, 304", "_in_groups"
    return code, groups


def set_request_headers_dict(page):
    # Cookies belong to the session, not to a replayed request.
    return {h["name"]: h["value"] for h in page["request"]["headers"] if h["name"] != "Cookie"}


def set_request_body(method, page):
    return "json={}\n".format(page["request"]["postData"]) if method == "post" else ""


def _parse_urls(pages):
    return [page["title"] for page in pages["log"]["pages"]]


def _extract_and_sort_requests(pages):
    entries = pages["log"]["entries"]
    entries.sort(key=lambda e: e["startedDateTime"])
    return entries


def _render_journey_transaction(page, req_method, expected_status_code, group_status, sleep_s):
    # Argument names as in mite 2.11 (callers may pass them by keyword).
    url = page["request"]["url"]
    return (
        f'    async with ctx.transaction("Request {req_method} {url}"):\n'
        f"        resp = await ctx.browser.{req_method}(\n"
        f"            '{url}',\n"
        f"            headers={set_request_headers_dict(page)},\n"
        f"            {set_request_body(req_method, page)}"
        "            )\n"
        f"        check_status_code{group_status}(resp, {expected_status_code})\n"
        f"    await sleep({sleep_s})\n\n"
    )


def _stamp(text):
    return time.mktime(time.strptime(text, _HAR_TIME))


def har_convert_to_mite(file_name, converted_file_name, sleep_s):
    """Writes the journey for the page requests of `file_name` to `converted_file_name`.
    `sleep_s` is pasted between requests as given; a numeric 0 uses the recorded gaps."""
    with open(file_name) as f:
        har = json.load(f)
    page_urls = _parse_urls(har)
    entries = _extract_and_sort_requests(har)
    previous = _stamp(har["log"]["pages"][0]["startedDateTime"])
    body = ""
    for page in entries:
        if not page["response"]["status"] or page["request"]["url"] not in page_urls:
            continue
        expected, groups = set_expected_status_code(page, entries)
        if sleep_s != 0:
            pause = sleep_s
        else:
            stamp = _stamp(page["startedDateTime"])
            pause, previous = int(stamp - previous), stamp
        body += _render_journey_transaction(page, page["request"]["method"].lower(), expected, groups, pause)
    with open(converted_file_name, "w") as out:
        out.write(_HEADER + body)


def har(opts):
    """Entry point from the native command line; returns the exit status."""
    import sys

    try:
        har_convert_to_mite(opts["HAR_FILE_PATH"], opts["CONVERTED_FILE_PATH"], opts["--sleep-time"])
    except OSError as e:
        print(f"mite: error: {e}", file=sys.stderr)
        return 1
    except (ValueError, KeyError, IndexError, TypeError) as e:
        what = f"missing field {e}" if isinstance(e, KeyError) else str(e)
        print(f"mite: error: {opts['HAR_FILE_PATH']} is not a HAR recording mite can convert: {what}", file=sys.stderr)
        return 1
    return 0
