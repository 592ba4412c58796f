"""acurl's exceptions."""


class AcurlError(Exception):
    """A transfer libcurl could not complete: `curl failed with code N <libcurl's text>`."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class RequestError(Exception):
    """A request the session refused to go on with (too many redirects)."""
