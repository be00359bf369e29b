"""Demo data for the workflow: a process definition for every demo catalogue item.

``processes.json`` beside this module is a list of ``{"item_id", "code",
"definition"}``, one entry per item of the catalog's demo (``services/catalog/demo``),
in the catalogue's order. ``definition`` is a process definition in the format of
``services.workflow.domain.process`` (steps of kind accept, review, approve,
parallel or auto; working days adding up to no more than the item's statutory
days); the two instant items (Nanjing's home purchase eligibility certificate,
Yangzhou's senior citizen's concession card) are decided by an ``auto`` step's
rules, with a person as the fallback when a source of facts is down. Items with
fees pay them at a ``payment`` step: the province's social security card
replacement places it after the window accepts (the card is made once paid);
an item with fees whose definition has none pays after its last step (Nanjing's
card replacement, free for applicants of 70 or more by its fee waiver).

``item_id`` is not chosen here: it is the catalog's id of the item, derived from
the item's code as catalog's ``item_id_for`` does (uuid5 of the code in the
namespace ``uuid5(NAMESPACE_URL, "urn:tongban:catalog:item")``, as 32 hex
digits), so the file names the same items on every machine and in every load.
The parallel branches of a definition are the item's department and its
``joint_departments`` in the catalogue (a parallel step may leave out the item's
own department); an approval bureau's item may consult the department it took
the item over from (the catalogue's ``transferred_from``) as a ``review`` step of
that department. ``services/workflow/tests/unit/test_demo_processes.py`` checks
all of this against the catalog's demo data.
"""

import json
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def load_processes() -> list[dict]:
    """The demo process definitions: ``{"item_id", "code", "definition"}``, in file order."""
    with (_HERE / "processes.json").open(encoding="utf-8") as f:
        return json.load(f)
