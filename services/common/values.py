"""Copies of JSON values.

:func:`copy_json` deep-copies what JSON carries (dicts, lists and immutable
leaves) several times quicker than :func:`copy.deepcopy`, which keeps a memo
for shared and cyclic references a JSON value cannot have. Anything else in
the tree is handed to :func:`copy.deepcopy`, so the copy is always deep.
"""

import copy

_LEAVES = frozenset({str, int, float, bool, type(None)})


def copy_json(value):
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if kind is list:
        return [copy_json(item) for item in value]
    return copy.deepcopy(value)
