"""A Starlette adapter for PyLTI1p3, which ships adapters for Django and Flask only.

The request's form is read up front (async); PyLTI1p3 itself is synchronous and fetches
JWKS and tokens with `requests`, so callers run it in the thread pool. Cookies it sets are
collected and copied onto whatever response the flow ends in."""
from __future__ import annotations

import json
from typing import Any, Mapping

import requests
from pylti1p3.cookie import CookieService
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.request import Request as LtiRequest
from pylti1p3.session import SessionService
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response


class StarletteLtiRequest(LtiRequest):
    """Query and form parameters, cookies and the scheme of one Starlette request."""

    def __init__(self, params: Mapping[str, str], cookies: Mapping[str, str], secure: bool) -> None:
        self._params = dict(params)
        self._cookies = dict(cookies)
        self._secure = secure
        self._session: dict[str, Any] = {}  # unused: launch data lives in LaunchStore

    @classmethod
    async def read(cls, request: Request) -> "StarletteLtiRequest":
        params: dict[str, str] = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return cls(params, request.cookies, request.url.scheme == "https")

    @property
    def session(self) -> dict[str, Any]:
        return self._session

    def is_secure(self) -> bool:
        return self._secure

    def get_param(self, key: str) -> str | None:
        return self._params.get(key)

    def get_cookie(self, key: str) -> str | None:
        return self._cookies.get(key)


class StarletteCookieService(CookieService):
    def __init__(self, request: StarletteLtiRequest) -> None:
        self._request = request
        self._pending: dict[str, tuple[str, int | None]] = {}

    def _key(self, name: str) -> str:
        return f"{self._cookie_prefix}-{name}"

    def get_cookie(self, name: str) -> str | None:
        return self._request.get_cookie(self._key(name))

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self._pending[self._key(name)] = (str(value), exp)

    def apply(self, response: Response) -> Response:
        # The launch is a cross-site form POST from the platform: over HTTPS the state cookie
        # must be SameSite=None to come back with it (browsers drop it otherwise).
        secure = self._request.is_secure()
        for key, (value, exp) in self._pending.items():
            response.set_cookie(
                key, value, max_age=exp, path="/", httponly=True, secure=secure,
                samesite="none" if secure else "lax",
            )
        return response


class StarletteRedirect(Redirect[Response]):
    def __init__(self, location: str, cookies: StarletteCookieService) -> None:
        self._location = location
        self._cookies = cookies

    def do_redirect(self) -> Response:
        return self._cookies.apply(RedirectResponse(self._location, status_code=302))

    def do_js_redirect(self) -> Response:
        # json-encoded, so the URL cannot break out of the script
        script = f"<script>window.location={json.dumps(self._location)};</script>"
        return self._cookies.apply(HTMLResponse(script))

    def set_redirect_url(self, location: str) -> None:
        self._location = location

    def get_redirect_url(self) -> str:
        return self._location


class StarletteOIDCLogin(OIDCLogin):
    def __init__(self, request: StarletteLtiRequest, tool_config, launch_data_storage) -> None:
        cookies = StarletteCookieService(request)
        super().__init__(request, tool_config, SessionService(request), cookies, launch_data_storage)

    def get_redirect(self, url: str) -> StarletteRedirect:
        return StarletteRedirect(url, self._cookie_service)

    def get_response(self, html: str) -> Response:
        return self._cookie_service.apply(HTMLResponse(html))


class StarletteMessageLaunch(MessageLaunch):
    def __init__(self, request: StarletteLtiRequest, tool_config, launch_data_storage,
                 requests_session: requests.Session | None = None) -> None:
        cookies = StarletteCookieService(request)
        super().__init__(request, tool_config, SessionService(request), cookies, launch_data_storage,
                         requests_session)

    def _get_request_param(self, key: str) -> str | None:
        return self._request.get_param(key)
