"""The audit trail's recorded changes, written out for people.

``fih.audit.log`` keeps what changed as JSON with technical field names and
stored values; ``describe`` turns it into one line per field, with the
fields' labels and the values' labels (the model supplies both).

>>> print(describe(
...     {"auth_type": {"before": "none", "after": "oauth2"},
...      "active": {"before": True, "after": False}},
...     labels={"auth_type": "Authentication", "active": "Active"},
...     value_labels={"auth_type": {"none": "None", "oauth2": "OAuth2"}},
...     booleans={"active"},
... ))
Authentication: None → OAuth2
Active: Yes → No
>>> print(describe({"after": {"name": "EU platform", "code": False}},
...                labels={"name": "Name", "code": "Code"}))
Name: EU platform
Code: (empty)
>>> print(describe({"secrets": ["webhook_secret"]},
...                labels={"webhook_secret": "Webhook Signing Secret"}))
Secrets: Webhook Signing Secret
>>> print(describe({"payloads_purged": 12}))
Payloads purged: 12
>>> describe(None)
''
"""

WORDS = {"yes": "Yes", "no": "No", "empty": "(empty)"}
# a whole record's values: created ("after") or deleted ("before")
RECORD_KEYS = ("after", "before")


def _key_label(key, labels):
    if key in labels:
        return labels[key]
    words = str(key).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _value(key, value, value_labels, labels, words, booleans=()):
    if value is True or (value is False and key in booleans):
        return words["yes"] if value else words["no"]
    if value is False or value is None or value == "" or value == []:
        return words["empty"]
    if isinstance(value, list):
        return ", ".join(
            str(_value(key, item, value_labels, labels, words)) for item in value
        )
    if isinstance(value, dict):
        return "; ".join(
            f"{_key_label(k, labels)} {_value(k, v, value_labels, labels, words)}"
            for k, v in value.items()
        )
    if key in ("secrets", "secrets_cleared"):
        return labels.get(value, value)
    return value_labels.get(key, {}).get(value, value)


def describe(changes, labels=None, value_labels=None, words=None, booleans=()):
    """One line per changed field: ``Label: before → after``.

    ``labels`` are the fields' labels, ``value_labels`` the labels of their
    selection values, ``booleans`` the yes/no fields (elsewhere ``False`` is
    an empty value) and ``words`` the translations of yes, no and empty.
    """
    if not isinstance(changes, dict):
        return ""
    labels = labels or {}
    value_labels = value_labels or {}
    words = {**WORDS, **(words or {})}
    if len(changes) == 1 and next(iter(changes)) in RECORD_KEYS:
        changes = next(iter(changes.values()))
        if not isinstance(changes, dict):
            return ""
    lines = []
    for key, change in changes.items():
        label = _key_label(key, labels)
        if isinstance(change, dict) and set(change) == {"before", "after"}:
            before = _value(
                key, change["before"], value_labels, labels, words, booleans
            )
            after = _value(key, change["after"], value_labels, labels, words, booleans)
            lines.append(f"{label}: {before} → {after}")
        else:
            value = _value(key, change, value_labels, labels, words, booleans)
            lines.append(f"{label}: {value}")
    return "\n".join(lines)
