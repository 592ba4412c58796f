"""TLS verification for @mite_http journeys: off by default (as in mite 2.11), on with
MITE_HTTP_VERIFY_TLS=1 — then a self-signed certificate is refused (libcurl code 60)."""

import pytest
from httpsupport import beyond_reference, require_engine, run_journey

acurl = require_engine()
from mite_http import SessionPool, mite_http  # noqa: E402  (after the engine gate)


@pytest.fixture
def fresh_pools():
    # Pools are per event loop and read the setting when made; each test makes its own loop.
    saved = dict(SessionPool._session_pools)
    SessionPool._session_pools.clear()
    yield
    SessionPool._session_pools.clear()
    SessionPool._session_pools.update(saved)


def journey_for(url):
    @mite_http
    async def journey(ctx):
        return (await ctx.http.get(url)).status_code

    return journey


def test_self_signed_certificates_are_accepted_by_default(https_server, monkeypatch, fresh_pools):
    monkeypatch.delenv("MITE_HTTP_VERIFY_TLS", raising=False)
    _, _, status = run_journey(journey_for(https_server.url("/echo")))
    assert status == 200


@beyond_reference("MITE_HTTP_VERIFY_TLS (acurl 1.2.1 cannot verify certificates)")
def test_verification_can_be_turned_on(https_server, monkeypatch, fresh_pools):
    monkeypatch.setenv("MITE_HTTP_VERIFY_TLS", "1")
    with pytest.raises(acurl.AcurlError) as err:
        run_journey(journey_for(https_server.url("/echo")))
    assert str(err.value).startswith("curl failed with code 60")
