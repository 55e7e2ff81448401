"""Every line `vaern serve` logs over README's walkthrough is a JSON object, every request's line carries its
request id, and no line holds a CPR number, phone number, name or free text given in the walkthrough.

The walkthrough runs as the README gives it (tests/e2e/test_readme_walkthrough.py), then registers a
phone number and looks it up, looks the citizen up with an `X-Request-ID` of its own, and sends a
refused body and a path with a CPR number in it. The server logs at DEBUG, more than production's INFO.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_readme_walkthrough import VAERN, walkthrough, without_vaern_settings
from tests.support.plaintext import stored_forms

MORE = r"""
TELEPHONY=$(vaern token --role telephony --user t1 --name "Tina Telefon")
ADDED=$(post /contact-files/$REF/phone-numbers "$CASEWORKER" '{"number": "+45 20 30 40 50"}' | field position)
post "/phone-routing/lookup?min_position=$ADDED" "$TELEPHONY" '{"number": "20304050"}'
curl -sS --fail-with-body -o /dev/null -X POST "$VAERN/front-desk/lookup" -H "Authorization: Bearer $GUARD" \
     -H 'content-type: application/json' -H 'X-Request-ID: walk-1' --data '{"cpr": "211062-5629"}'
curl -sS -o /dev/null -X POST "$VAERN/contact-files" -H "Authorization: Bearer $CASEWORKER" \
     -H 'content-type: application/json' --data '{"cpr": "211062-56299", "note": "Eva Holm"}'
curl -sS -o /dev/null "$VAERN/contact-files/211062-5629" -H "Authorization: Bearer $CASEWORKER"
"""
# What the walkthrough plants: the CPR and phone numbers, every person's name, the letter's address and the free texts.
PLANTED = [
    "211062-5629", "+45 20 30 40 50", "Lone Hansen", "Carl Berg", "Gitte Vagt", "Eva Holm", "Jens Hansen",
    "Tina Telefon", "Vesterbrogade 1", "Borgeren truede sagsbehandleren", "Vagt til stede", "33 17 33 17",
    "Gentagne trusler mod sagsbehandler", "Mundtlig advarsel", "vente på hende efter arbejde",
    "Akut fare for medarbejderne",
]


def test_the_walkthrough_logs_json_lines_with_request_ids_and_no_personal_data(tmp_path):
    block = walkthrough() + MORE
    assert all(value in block for value in PLANTED), "each planted value is one the walkthrough sends"
    data, log = tmp_path / "data", tmp_path / "serve.log"
    env = {**without_vaern_settings(), "VAERN_DATA_DIR": str(data), "VAERN_LOG_LEVEL": "DEBUG"}
    with open(log, "wb") as errors:
        server = subprocess.Popen([VAERN, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=errors,
                                  text=True)
    try:
        found = re.match(r"Vaern is serving at (http://\S+) ", server.stdout.readline())
        assert found, log.read_text()
        folder = tmp_path / "walkthrough"
        folder.mkdir()
        (folder / ".venv").symlink_to(sys.prefix)
        ran = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=folder, capture_output=True,
                             text=True, timeout=180, env={**without_vaern_settings(), "VAERN_URL": found.group(1)})
        assert ran.returncode == 0, f"stdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    finally:
        server.terminate()
        server.communicate(timeout=30)

    lines = log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line: one JSON object
    assert all({"timestamp", "level", "logger", "event"} <= set(r) for r in records)
    requests = [r for r in records if r["logger"] == "vaern.requests"]
    assert len(requests) >= 13 and all(re.fullmatch(r"[0-9a-f]{32}|walk-1", r["request_id"]) for r in requests)
    assert len({r["request_id"] for r in requests}) == len(requests), "one id per request"
    assert {"route": "/front-desk/lookup", "status": 200}.items() <= next(
        r for r in requests if r["request_id"] == "walk-1").items()
    assert {r["route"] for r in requests if r["status"] == 404 or r["status"] == 422} >= {"/contact-files"}
    inside = [r for r in records if r["logger"] != "vaern.requests" and "request_id" in r]
    assert inside, "lines written while answering (at DEBUG, the letter's fonts) carry the request's id"
    assert {r["request_id"] for r in inside} <= {r["request_id"] for r in requests}
    with sqlite3.connect(data / "vaern.sqlite") as db:
        logged = db.execute("SELECT what FROM vaern_access_log WHERE request_id = 'walk-1'").fetchall()
    assert logged == [("front_desk_lookup",)]

    leaks = [(value, line) for value in PLANTED for line in lines + [str(r) for r in records]
             if any(form in line for form in stored_forms(value))]
    assert leaks == []


def test_a_view_runner_process_logs_json_lines_too(tmp_path):
    env = {**without_vaern_settings(), "VAERN_DATA_DIR": str(tmp_path / "data")}
    runner = subprocess.Popen([VAERN, "projection", "front_desk"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        # On a new data folder the durable tables' migrations are logged first (yoyo's own logger), then the runner.
        records = [json.loads(runner.stderr.readline())]  # every line: one JSON object
        while records[-1]["logger"] != "projections.runner" and len(records) < 20:
            records.append(json.loads(runner.stderr.readline()))
    finally:
        runner.terminate()
        runner.communicate(timeout=30)
    assert all({"timestamp", "level", "logger", "event"} <= set(r) and "request_id" not in r for r in records)
    first = records[-1]
    assert first["logger"] == "projections.runner" and first["level"] == "info"
    assert first["event"] == "view front_desk following the event log"
