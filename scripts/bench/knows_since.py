"""Adds a `since` date to every Knows edge of a graph from ../shared/bench/gen_social.py.

Usage: knows_since.py DATADIR. Reads person.csv and knows.csv there and writes, next to
them, `since/social.pg` and `since/social.jsonl` (omnigraph: Person and Knows with
`since: Date`) and `since/person.csv`, `since/knows.csv` (Kuzu). Dates are uniform over
2000-01-01 .. 2024-12-31, from a fixed seed, so 1% of edges are before 2000-04-01 and
half before 2012-07-02.
"""
import datetime, json, os, random, sys

d = sys.argv[1]
out = os.path.join(d, "since")
os.makedirs(out, exist_ok=True)
rnd = random.Random(2020)
start = datetime.date(2000, 1, 1)
days = (datetime.date(2024, 12, 31) - start).days + 1
with open(f"{d}/person.csv") as pin, open(f"{out}/person.csv", "w") as pout, open(f"{out}/social.jsonl", "w") as j:
    for line in pin:
        name, _pname, age = line.rstrip("\n").split(",")
        pout.write(f"{name},{age}\n")
        j.write(json.dumps({"type": "Person", "data": {"name": name, "age": int(age)}}) + "\n")
    with open(f"{d}/knows.csv") as kin, open(f"{out}/knows.csv", "w") as kout:
        for line in kin:
            a, b = line.rstrip("\n").split(",")
            since = (start + datetime.timedelta(days=rnd.randrange(days))).isoformat()
            kout.write(f"{a},{b},{since}\n")
            j.write(json.dumps({"edge": "Knows", "from": a, "to": b, "data": {"since": since}}) + "\n")
with open(f"{out}/social.pg", "w") as s:
    s.write("node Person { name: String @key  age: I32? }\nedge Knows: Person -> Person { since: Date }\n")
print(f"wrote {out}")
