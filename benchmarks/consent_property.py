"""The consent property at benchmark scale: random consent tables, several rows per customer and
channel in random order, random updated_at (ties and missing dates), preference centres, pressure
caps from 0 and own monthly maxima; every eligibility must equal a row-by-row oracle and no exact
or Lagrangian plan may contact a forbidden pair.

    .venv/bin/python benchmarks/consent_property.py [examples]      # default 10,000

The unit test (tests/data/test_consents.py) runs the same property on 200 examples. Prints the examples
run, pairs the oracle forbade, contacts planned and checked, and the wall time; writes
benchmarks/results_consent_property.json. Fails (exit 1) on the first counter-example.
"""

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(examples: int = 10_000) -> dict:
    os.environ["CONSENT_PROPERTY_EXAMPLES"] = str(examples)
    sys.path.insert(0, str(ROOT))
    from tests.data import test_consents as prop

    started = time.perf_counter()
    prop.test_no_plan_ever_contacts_a_customer_against_their_latest_consent_preferences_or_caps()
    result = {**prop.TALLY, "wall_s": round(time.perf_counter() - started, 1)}
    print(
        f"{result['examples']:,} examples: eligibility equal to the oracle in every one; "
        f"{result['forbidden_pairs']:,} customer-channel pairs forbidden, {result['conflicting_rows']:,} rows "
        f"repeating a customer and channel; {result['planned_contacts']:,} planned contacts (exact and Lagrangian) "
        f"checked, none forbidden; {result['wall_s']:,} s"
    )
    (ROOT / "benchmarks" / "results_consent_property.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
