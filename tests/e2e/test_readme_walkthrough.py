"""README.md's "Trying it" walkthrough, run as written against `vaern serve`, ends with the decision letter.

The block runs in bash with `set -euo pipefail`, in a folder of its own whose `.venv` is the one
running these tests, against `vaern serve` on a free port with a fresh data folder and the settings
the README assumes (none: the development defaults). Only `VAERN_URL` is given, which the block
documents for pointing it at another address.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.letters.kinds import TITLES, LetterKind
from tests.support.pdfs import text_of

README = Path(__file__).resolve().parents[2] / "README.md"
VAERN = str(Path(sys.executable).with_name("vaern"))
LETTER = "decision-letter.pdf"  # where the walkthrough saves the letter it fetches
SIGNER = "Lone Hansen"  # the leader the walkthrough's token names


def walkthrough() -> str:
    """The first ```sh block after the heading "## Trying it"."""
    section = README.read_text(encoding="utf-8").split("\n## Trying it\n", 1)[1]
    found = re.search(r"^```sh\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    assert found, 'no ```sh block after "## Trying it"'
    return found.group(1)


def without_vaern_settings() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("VAERN_")}


@pytest.fixture
def served(tmp_path) -> Iterator[str]:
    """`vaern serve` on any free port, as `bash infra/dev.sh serve` runs it; its URL."""
    env = {**without_vaern_settings(), "VAERN_DATA_DIR": str(tmp_path / "data"), "VAERN_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([VAERN, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        found = re.match(r"Vaern is serving at (http://\S+) ", line)
        assert found, f"vaern serve said {line!r}"
        yield found.group(1)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_the_walkthrough_run_as_written_ends_with_the_decision_letter_fetched(served, tmp_path):
    block = walkthrough()
    assert LETTER in block.strip().splitlines()[-1], "the walkthrough ends with the letter's fetch"
    folder = tmp_path / "walkthrough"
    folder.mkdir()
    (folder / ".venv").symlink_to(sys.prefix)  # the block starts with `. .venv/bin/activate`
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + block], cwd=folder, env={**without_vaern_settings(), "VAERN_URL": served},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    letter = (folder / LETTER).read_bytes()
    assert letter.startswith(b"%PDF-")
    text = text_of(letter)
    assert TITLES[LetterKind.DECISION] in text and SIGNER in text
