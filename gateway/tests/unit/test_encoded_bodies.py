"""Answers shared from a cache are encoded once per object."""

import json

from gateway.http import EncodedBodies


def test_the_same_object_is_encoded_once():
    bodies = EncodedBodies()
    answer = {"items": [{"name": "食品经营许可"}], "total": 1}
    first = bodies.encode(answer)
    assert json.loads(first) == answer
    assert "食品".encode() in first  # not escaped
    assert bodies.encode(answer) is first


def test_an_equal_but_other_object_is_encoded_afresh():
    bodies = EncodedBodies()
    first = bodies.encode({"n": 1})
    other = bodies.encode({"n": 2})
    assert json.loads(other) == {"n": 2}
    assert json.loads(first) == {"n": 1}


def test_only_the_last_answers_are_kept():
    bodies = EncodedBodies(max_entries=2)
    answers = [{"n": n} for n in range(3)]
    encoded = [bodies.encode(answer) for answer in answers]
    assert bodies.encode(answers[2]) is encoded[2]
    assert bodies.encode(answers[0]) is not encoded[0]  # dropped, encoded again
    assert json.loads(bodies.encode(answers[0])) == {"n": 0}
