"""Writes cases.json: how PyYAML (YAML 1.1, what MLflow reads MLproject files
with) types plain scalars, as Python's str() of yaml.safe_load's value, or null
for None. Run with Debian's python3-yaml: /usr/bin/python3 gen.py
"""
import json

import yaml

CASES = [
    # booleans: PyYAML's resolver has no y/n
    "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE",
    "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "tRue", "oN",
    # null
    "~", "null", "Null", "NULL", "", "nUll",
    # integers: decimal, octal, hex, binary, underscores, sexagesimal
    "0", "7", "-7", "+7", "012", "0o12", "0x1F", "0x1f", "-0x1F", "0b101", "1_000", "1:30",
    "-1:30", "190:20:30", "1:60", "09", "08", "0_7",
    # floats
    "1.0", "1.", ".5", "-.5", "+1.5", "1e3", "1.0e3", "1.0e+3", "1.0E-3", "1_000.5", "6.8523015e+5",
    "685.230_15e+03", "190:20:30.15", ".inf", "-.inf", "+.inf", ".Inf", ".NaN", ".nan", "0.1",
    "100000000000000000.0", "1e-05", "0.0001", "123456789012345678", "3.14159265358979323846",
    # timestamps
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "2002-12-14",
    # found by FuzzPyYAMLScalars: a float's leading '.' wants a digit, out-of-range floats
    # are inf or 0.0, ints (sexagesimal ones too) have no size, base-60 floats sum from the end
    "._4", "._5_3", ".5_0", "95.E+4951", "-6.9E+8962", "1.0e-400", "123456789012345678901234567890",
    "+123456789012345678901", "0x1234567890abcdef1234", "-0b11111111111111111111111111111111111111111111111111111111111111111",
    "99999999999999999999:59:59", "12345678901234567:30", "-1_000_000_000_000_000_000:00",
    "123456789012345678:30.5", "1:2:3:4:5:6:7:8:9:10:11:12.5", "26329868:55:13:48:10:7:14:45:0:29:59.6587",
    # strings
    "hello", "data/wine.csv", "a b", "1.2.3", "1:2:x", "0x", "--x", "12abc", "a-b",
]

out = {}
for c in CASES:
    v = yaml.safe_load("default: " + c + "\n")["default"] if c else None
    out[c] = None if v is None else str(v)
with open("cases.json", "w") as f:
    json.dump({"pyyaml": yaml.__version__, "cases": out}, f, indent=1, sort_keys=True)
    f.write("\n")
