"""/health and `vaern projections status` in the production layout: each view runs as its own process
(`vaern projection NAME`), and the API's process runs none, so all it knows of a runner is what the
runner recorded in the database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from domain.contact_file.commands import OpenContactFile, RegisterPhoneNumber
from domain.identity import Cpr
from infra.services import Services
from infra.settings import Settings
from tests.integration.test_view_currency import POISON
from tests.support.cases import LEADER, decide
from tests.support.secrets import secret_env, server_settings

ROOT = Path(__file__).resolve().parents[2]
VAERN = str(Path(sys.executable).with_name("vaern"))
# A front-desk runner process whose view cannot apply the poisoned event (see test_view_currency).
POISONED_RUNNER = (
    "from infra.services import Services\n"
    "from infra.settings import Settings\n"
    "from tests.integration.test_view_currency import PoisonedFrontDesk, poisoned\n"
    "services = Services.build(Settings())\n"
    "poisoned(services, 'front_desk', PoisonedFrontDesk)\n"
    "services.runner('front_desk').run()\n"
)


def environment(settings: Settings) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}
    return {**clean, "VAERN_DATABASE_URL": str(settings.database_url), **secret_env(settings),
            "VAERN_DATA_DIR": str(settings.data_dir), "VAERN_LOG_LEVEL": "WARNING",
            "VAERN_VIEW_MAX_STALENESS_SECONDS": "1"}


def start(command: list[str], settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(command, env=environment(settings), cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def until(condition, seconds: float = 30.0, what: str = "") -> object:
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not within the deadline: {what}"
        time.sleep(0.1)
    return value


def test_the_api_process_reports_a_view_stopped_in_its_own_process_and_one_whose_runner_died(database_url, tmp_path):
    settings = server_settings(database_url=database_url, data_dir=tmp_path,
                        view_max_staleness_seconds=1.0)
    api = Services.build(settings)  # what `vaern api` builds: no runners
    stuck = api.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("211062-5629"), actor=LEADER)).citizen_ref
    bad = decide(api.app, stuck, in_person={"rule": "banned", "instructions": POISON})
    other = api.app.open_contact_file(OpenContactFile(purpose="incident", cpr=Cpr.parse("150785-1234"), actor=LEADER)).citizen_ref
    front_desk = start([sys.executable, "-c", POISONED_RUNNER], settings, tmp_path / "front_desk.log")
    phone_routing = start([VAERN, "projection", "phone_routing"], settings, tmp_path / "phone_routing.log")
    try:
        with TestClient(create_app(settings, api)) as http:
            views = lambda: http.get("/health").json()["views"]  # noqa: E731
            stopped = until(lambda: (v := views()["front_desk"]).get("state") == "stopped" and v,
                            what=(tmp_path / "front_desk.log").read_text(errors="replace"))
            assert stopped["stopped_at"] == bad.position and stopped["position"] < bad.position
            assert "ValueError raised at test_view_currency.py" in stopped["error"] and POISON not in stopped["error"]
            health = http.get("/health").json()
            assert health["status"] == "degraded"
            assert any(f"front_desk (position {stopped['position']}" in p and f"stopped at event {bad.position}" in p
                       for p in health["problems"])

            until(lambda: views()["phone_routing"].get("state") == "current" and views()["phone_routing"]["lag"] == 0,
                  what="the phone-routing runner catching up")
            os.kill(phone_routing.pid, signal.SIGKILL)  # dies without a word, as on an OOM kill
            phone_routing.wait(10)
            api.app.register_phone_number(RegisterPhoneNumber(citizen_ref=other, number="+4520304050", actor=LEADER))
            gone = until(lambda: (v := views()["phone_routing"])["state"] == "no runner" and v,
                         what="the phone-routing view reported without a runner")
            assert gone["lag"] > 0 and any("phone_routing" in p for p in http.get("/health").json()["problems"])

        printed = subprocess.run([VAERN, "projections", "status"], env=environment(settings), capture_output=True,
                                 text=True, timeout=60, check=True).stdout
        assert printed.splitlines()[0] == "status: degraded"
        assert f"stopped at event {bad.position}" in printed and "phone_routing" in printed and POISON not in printed
    finally:
        for process in (front_desk, phone_routing):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
                process.wait(15)
        api.close()
