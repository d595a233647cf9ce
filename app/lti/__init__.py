"""LTI 1.3: OIDC login, resource-link launch and grade passback (Assignment and Grade Services),
built on PyLTI1p3 through a small Starlette adapter (`adapter.py`).

Registering the tool on a platform (Moodle: Site administration → Plugins → External tool →
Manage tools → configure a tool manually, LTI 1.3):
  - Tool URL / redirection URI:  https://HOST/lti/launch
  - Initiate login URL:          https://HOST/lti/login
  - Public keyset URL:           https://HOST/lti/jwks
  - Services: IMS LTI Assignment and Grade Services ("use this service for grade sync only"
    is enough); share the launcher's name and email, so roster users are recognised.
  - Per activity, the custom parameter `exercise=ex2` says which exercise it launches; the
    activity's grade item receives that exercise's counted grade.
Then write the platform's issuer, client id, auth/token/JWKS URLs and deployment id into the
JSON file named by AUTOGRADER_LTI_CONFIG (format in `config.py`), next to the tool's key pair.

Over plain HTTP the OIDC state cookie cannot be SameSite=None, so browsers drop it on the
platform's cross-site form post: run the tool behind HTTPS (uvicorn --proxy-headers)."""
