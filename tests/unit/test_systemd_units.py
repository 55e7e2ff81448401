"""The systemd units in infra/deploy/ are what the exporter writes from the Procfile now: one list, two forms."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "infra" / "deploy"


def exported(out: Path) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["bash", str(DEPLOY / "export.sh"), str(out)], env=env, check=True, capture_output=True, timeout=60)
    return {unit.name: unit.read_text() for unit in sorted(out.iterdir())}


def procfile_names() -> list[str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return [line.split(":", 1)[0] for line in lines if line and not line.startswith("#")]


def test_the_committed_units_are_what_the_procfile_exports_now(tmp_path):
    committed = {unit.name: unit.read_text() for unit in sorted((DEPLOY / "systemd").iterdir())}
    assert exported(tmp_path) == committed, "run `bash infra/deploy/export.sh` and commit infra/deploy/systemd"


def test_every_procfile_process_has_a_unit_that_restarts_it_hardened_with_its_secrets_read_from_a_file(tmp_path):
    units = exported(tmp_path)
    names = procfile_names()
    assert {"api", "relay", "relay_standby", "scheduler", "telephony", "front_desk"} <= set(names)
    assert sorted(n for n in units if n.endswith(".service")) == sorted(f"vaern-{n}-1.service" for n in names)
    for name in names:
        unit = units[f"vaern-{name}-1.service"]
        for line in ("Restart=on-failure", "EnvironmentFile=/etc/vaern/vaern.env", "NoNewPrivileges=yes",
                     "ProtectSystem=strict", "PrivateTmp=yes", "PartOf=vaern-" + name + ".target"):
            assert line in unit.splitlines(), f"{name}: {line}"
        inline = [line for line in unit.splitlines() if line.startswith("Environment=")]
        assert inline and not any(word in line for line in inline for word in ("SECRET", "KEY", "DATABASE_URL"))
    assert "ExecStart=/bin/sh -c 'exec vaern api --workers $${VAERN_API_WORKERS:-4}'" in units["vaern-api-1.service"]


def test_systemd_reads_every_unit_without_a_complaint(tmp_path):
    units = tmp_path / "units"
    exported(units)
    checked = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(map(str, units.iterdir()))],
                             capture_output=True, text=True, timeout=120)
    complaints = [line for line in (checked.stdout + checked.stderr).splitlines() if str(units) in line]
    assert checked.returncode == 0 and not complaints, checked.stdout + checked.stderr
