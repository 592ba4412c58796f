"""Resolving links, resources and form actions against the page they appear on."""

from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit


def url_builder(base_url, *args, **kwargs):
    """`base_url` joined with each of `args` in turn, then `kwargs` as a query string."""
    url = base_url
    for arg in args:
        url = urljoin(url, arg)
    if kwargs:
        url = "".join([url, "?", urlencode(kwargs)])
    return url


def with_query(url, fields):
    """`url` with its query replaced by `fields`, as a browser submits a GET form."""
    return urlunsplit(urlsplit(url)._replace(query=urlencode(fields), fragment=""))
