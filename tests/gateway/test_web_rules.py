"""The page's own checks say what the gateway says (issue 14): run in Node against the gateway's rules.

- A CPR number the page accepts is one the CPR scalar accepts, and the other way round: every day and
  month around the valid ones, in every century the seventh digit gives (sources/identifiers.py).
- Every reason the page words in Danish (``REASONS`` in js/texts.js) is in a message the gateway gives,
  so a reworded message fails here instead of falling back to a vague text on the page.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from itertools import product
from pathlib import Path

import pytest

from gateway.web import WEB_DIR
from sources.identifiers import is_cpr
from tests.e2e.served import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
REASON_ROW = re.compile(r'^\s*\["([^"]*)", "([^"]*)", "[^"]+"\],$', re.MULTILINE)


def node(script: str, stdin: str) -> str:
    found = shutil.which("node")
    if found is None:
        skip_or_fail("Node.js is not installed (make install needs it for the page's tests)")
    assert found is not None
    done = subprocess.run(  # noqa: S603 - a fixed script run by the test
        [found, "--input-type=module", "-e", script], input=stdin, capture_output=True, text=True, check=True
    )
    return done.stdout


def candidates() -> list[str]:
    days = [f"{d:02d}" for d in range(33)]
    months = [f"{m:02d}" for m in range(14)]
    years = ["00", "04", "36", "37", "57", "58", "99"]
    numbers = [f"{d}{m}{y}{seventh}234" for d, m, y, seventh in product(days, months, years, "0123456789")]
    return [*numbers, "140372-3705", " 1403723705 ", "140372370", "14037237055", "14037a3705", ""]


def test_the_page_takes_a_cpr_number_exactly_when_the_cpr_scalar_does() -> None:
    script = f"""
    import {{ readCpr }} from {json.dumps((WEB_DIR / "js" / "dom.js").as_uri())};
    let input = "";
    process.stdin.on("data", (chunk) => (input += chunk));
    process.stdin.on("end", () => console.log(JSON.stringify(JSON.parse(input).map((text) => readCpr(text)))));
    """
    typed = candidates()

    read = json.loads(node(script, json.dumps(typed)))

    expected = [digits if is_cpr(digits := re.sub(r"[\s-]", "", text)) else None for text in typed]
    wrong = [(text, got, want) for text, got, want in zip(typed, read, expected, strict=True) if got != want]
    assert wrong == [], wrong[:10]
    assert sum(r is not None for r in read) > 1000


@pytest.fixture(scope="module")
def gateway_messages() -> str:
    """The text of every module that raises a BAD_USER_INPUT the page may meet."""
    modules = [*(ROOT / "resolvers").glob("*.py"), ROOT / "gateway" / "validation.py"]
    return "\n".join(path.read_text(encoding="utf-8") for path in modules)


def test_every_reason_the_page_words_is_one_the_gateway_gives(gateway_messages: str) -> None:
    rows = REASON_ROW.findall((WEB_DIR / "js" / "texts.js").read_text(encoding="utf-8"))

    assert len(rows) > 20
    unknown = [(where, because) for where, because in rows if because and because not in gateway_messages]
    assert unknown == []
    arguments = {where for where, _ in rows if where}
    assert {"from", "to", "phone", "postalCode", "authorizationId", "organisationSorId", "cpr"} <= arguments
