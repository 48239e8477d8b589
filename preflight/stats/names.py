"""Column names that say "this identifies a row" (read by the reader, to leave identifiers out of
row hashes, and by PF105)."""

from __future__ import annotations

import re

# Names that say "this identifies a row": id, index, rownames, Unnamed: 0 (pandas' saved index),
# patient_id, customerID, PatientId, record_no, ...
ID_NAME = re.compile(
    r"^(id|idx|index|rownames?|row|row[_ ]?(id|no|nr|num|number|index)|unnamed: ?\d+|\.\.\.\d+)$"
    r"|[_ .\-](id|idx|no|nr)$"
    r"|^(patient|subject|customer|client|user|sample|record|case|person|participant|member|account)"
    r"[_ ]?(no|nr|num|number|code|key)?$",
    re.IGNORECASE,
)
CAMEL_ID = re.compile(r"[a-z0-9](Id|ID|No|Nr)$")  # PatientId, customerID, caseNo: case-sensitive
# pid, caseid, uid, schid, studyid are identifiers; these English words ending in "id" are not.
ID_WORDS = frozenset({
    "acid", "amid", "aphid", "arid", "avoid", "bid", "braid", "candid", "druid", "fetid", "florid", "fluid",
    "grid", "horrid", "humid", "hybrid", "insipid", "invalid", "kid", "laid", "lid", "lipid", "liquid", "lucid",
    "maid", "mid", "morbid", "orchid", "paid", "placid", "pyramid", "rabid", "raid", "rapid", "rid", "rigid",
    "said", "skid", "solid", "sordid", "splendid", "squid", "steroid", "stupid", "tepid", "thyroid", "timid",
    "torrid", "unpaid", "valid", "vivid",
})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def has_word(name: str, vocabulary: frozenset[str]) -> bool:
    """Whether one of ``name``'s words (snake_case, camelCase, spaces) is in ``vocabulary`` (lower case)."""
    return any(w.lower() in vocabulary for w in _WORD.findall(name))


def is_id_name(name: str) -> bool:
    low = name.strip().lower()
    return bool(ID_NAME.search(name) or CAMEL_ID.search(name)
                or (low.endswith("id") and low.isalnum() and low not in ID_WORDS))
