"""Cardinality: how many elements a dataset has, and how each operation changes it.

A count when it is known without a pass; ``INFINITE_CARDINALITY`` (-1) for an
endless dataset (after ``repeat()``); ``UNKNOWN_CARDINALITY`` (-2) when only a
pass can tell (after ``filter``, ``unbatch``, ``from_generator``).  The rules
below are tf.data's, checked against ``tf.data.Dataset.cardinality()``.
"""

INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


def _known(cardinality):
    return cardinality >= 0


def batched_cardinality(cardinality, batch_size, drop_remainder):
    if not _known(cardinality):
        return cardinality
    return cardinality // batch_size if drop_remainder else -(-cardinality // batch_size)


def repeated_cardinality(cardinality, count):
    # An empty dataset repeated is empty; anything else repeated forever is endless,
    # even when its own length is unknown.
    if count == 0 or cardinality == 0:
        return 0
    if count == -1:
        return INFINITE_CARDINALITY
    return cardinality * count if _known(cardinality) else cardinality


def taken_cardinality(cardinality, count):
    if cardinality == INFINITE_CARDINALITY:
        return count
    return min(cardinality, count) if _known(cardinality) else cardinality


def skipped_cardinality(cardinality, count):
    return max(cardinality - count, 0) if _known(cardinality) else cardinality


def zipped_cardinality(cardinalities):
    if UNKNOWN_CARDINALITY in cardinalities:
        return UNKNOWN_CARDINALITY
    finite = [c for c in cardinalities if _known(c)]
    return min(finite) if finite else INFINITE_CARDINALITY
