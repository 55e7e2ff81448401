"""An OpenID provider for tests: the certified `oidc-provider` npm package on the machine's Node.js.

tests/support/oidc/ holds the package pins (package.json, package-lock.json) and provider.mjs, which
configures one machine client per role (client-credentials grant) and JWT access tokens carrying the
client's role names (`Vaern.Guard`, ...), name and title. `npm ci` installs the pinned packages there
when they are missing (infra/dev.sh does it before the tests run, so a fresh machine needs nothing else).

Facts tests rely on:

* Access tokens for `audience` are ES256, the leader's RS256; `expired` tokens were issued two hours ago
  and lived ten minutes; `vaern-two-roles` names two of Vaern's roles, `vaern-no-role` none of them.
* `rotate()` publishes a new ES256 key first in the JWKS and signs with it from then on (the old keys stay
  published), without restarting: the issuer and its address stay the same.
* `jwks_requests()` counts the fetches of the JWKS since the provider started.
* Started with `page_addresses` (the guards' page's own address, its redirect URI), it also has the page's
  public clients, `vaern-front-desk` (refresh tokens issued) and `vaern-front-desk-no-refresh` (none), whose
  access tokens live `page_token_seconds`, and the provider's development login and consent pages: the
  people are `gitte` (Vaern.Guard, "Gitte Vagt") and `carl` (Vaern.Caseworker), any password.
* On Node.js 20 oidc-provider logs "Unsupported runtime" (it wants 22 LTS) and works; the tests run on 20.
"""

from __future__ import annotations

import atexit
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from . import free_port, tail

HOST = "127.0.0.1"
PACKAGE = Path(__file__).resolve().parent / "oidc"
AUDIENCE = "api://vaern"
PAGE_CLIENT, PAGE_CLIENT_WITHOUT_REFRESH = "vaern-front-desk", "vaern-front-desk-no-refresh"
PAGE_SCOPE = "openid vaern"
OTHER_AUDIENCE = "https://other-service.example/api"
ROLE_MAP = {
    "Vaern.Guard": "guard", "Vaern.Caseworker": "caseworker", "Vaern.Leader": "leader", "Vaern.Legal": "legal",
    "Vaern.Telephony": "telephony", "Vaern.Management": "management",
}


class ProviderError(RuntimeError):
    """The provider could not be installed or started, or refused a request."""


def install() -> None:
    """`npm ci` in tests/support/oidc when the pinned packages are not installed yet."""
    if (PACKAGE / "node_modules" / "oidc-provider" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ProviderError("npm is not installed (Debian: apt-get install nodejs npm; Node.js 20.19 or later)")
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=PACKAGE, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise ProviderError(f"npm ci in {PACKAGE} failed:\n{done.stdout}\n{done.stderr}")


class OidcProvider:
    """One oidc-provider process on a free loopback port; the issuer is its address."""

    def __init__(
        self, log_dir: Path | None = None, audience: str = AUDIENCE, startup_timeout: float = 20.0,
        page_addresses: tuple[str, ...] = (), page_token_seconds: int = 600,
    ) -> None:
        self.audience = audience
        self.page = (str(page_token_seconds), *page_addresses) if page_addresses else ()
        self.startup_timeout = startup_timeout
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="vaern-oidc-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / "oidc-provider.log"
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        if self.port is None:
            raise ProviderError("the provider has not been started")
        return f"http://{HOST}:{self.port}"

    def start(self) -> str:
        """Install if needed, start and wait until the discovery document is served; the issuer."""
        install()
        node = shutil.which("node")
        if node is None:
            raise ProviderError("node is not installed (Node.js 20.19 or later)")
        atexit.register(self.stop)
        for _ in range(3):
            port = free_port(HOST)
            with open(self.log_path, "ab") as log:
                process = subprocess.Popen(
                    [node, "provider.mjs", str(port), self.audience, *self.page], cwd=PACKAGE, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT,
                )
            if self._ready(port, process):
                self._process, self.port = process, port
                return self.issuer
            self._end(process)
        raise ProviderError(f"oidc-provider did not start\n{tail(self.log_path)}")

    def _ready(self, port: int, process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline and process.poll() is None:
            try:
                discovery = f"http://{HOST}:{port}/.well-known/openid-configuration"
                with urllib.request.urlopen(discovery, timeout=1) as answer:
                    return json.load(answer).get("issuer") == f"http://{HOST}:{port}"
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self._process is not None:
            self._end(self._process)
            self._process = None

    @staticmethod
    def _end(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def token(self, client: str, resource: str | None = None) -> str:
        """An access token for a client (`vaern-guard`, `vaern-leader`, ...), for Vaern unless `resource` names
        another service."""
        form = {"grant_type": "client_credentials", "client_id": client, "client_secret": f"{client}-secret",
                "scope": "vaern", "resource": resource or self.audience}
        return self._call("/token", urllib.parse.urlencode(form).encode())["access_token"]

    def bearer(self, client: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(client)}"}

    def jwks(self) -> dict:
        return self._call("/jwks")

    def rotate(self) -> str:
        """Publish a new signing key and sign with it from now on; its kid."""
        return self._call("/test/rotate", b"")["kid"]

    def jwks_requests(self) -> int:
        return self._call("/test/jwks-requests")["count"]

    def _call(self, path: str, body: bytes | None = None) -> dict:
        try:
            with urllib.request.urlopen(self.issuer + path, data=body, timeout=10) as answer:
                return json.load(answer)
        except OSError as error:
            raise ProviderError(f"{path}: {error}\n{tail(self.log_path)}") from error

    def __enter__(self) -> OidcProvider:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
