"""LTI 1.3: OIDC login, resource-link launch and grade passback (Assignment and Grade Services),
built on PyLTI1p3 through a small Starlette adapter."""
