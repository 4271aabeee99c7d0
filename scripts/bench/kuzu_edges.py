"""Kuzu on the graph of knows_since.py: filters on an edge property. Prints warm p50/p99 (ms)
per query in the shape of engine/examples/edge_bench.rs. Usage: kuzu_edges.py DATADIR/since"""
import os, shutil, statistics, sys, time
import kuzu

d = sys.argv[1]
db_path = os.path.join(d, "kuzu.db")
shutil.rmtree(db_path, ignore_errors=True)
if os.path.exists(db_path):
    os.remove(db_path)
db = kuzu.Database(db_path)
c = kuzu.Connection(db)
c.execute("CREATE NODE TABLE Person(name STRING, age INT32, PRIMARY KEY(name))")
c.execute("CREATE REL TABLE Knows(FROM Person TO Person, since DATE)")
t = time.time()
c.execute(f'COPY Person FROM "{d}/person.csv" (HEADER=false)')
c.execute(f'COPY Knows FROM "{d}/knows.csv" (HEADER=false)')
print(f"kuzu_load_s={time.time() - t:.2f}")

Q = {
    "since_1pct_count": "MATCH (a:Person)-[k:Knows]->(b:Person) WHERE k.since < date('2000-04-01') RETURN count(*)",
    "since_1pct_rows": "MATCH (a:Person)-[k:Knows]->(b:Person) WHERE k.since < date('2000-04-01') RETURN a.name, b.name, k.since",
    "since_half_count": "MATCH (a:Person)-[k:Knows]->(b:Person) WHERE k.since < date('2012-07-02') RETURN count(*)",
    "since_of_one": "MATCH (a:Person {name: $n})-[k:Knows]->(b:Person) WHERE k.since < date('2012-07-02') RETURN b.name, k.since",
}
for name, q in Q.items():
    lat = []
    for i in range(22):
        t = time.perf_counter()
        r = c.execute(q, {"n": f"p{(i * 7919) % 100000}"}) if "$n" in q else c.execute(q)
        rows = 0
        last = None
        while r.has_next():
            last = r.get_next(); rows += 1
        if i >= 2:
            lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    print(f"kuzu_{name}_ms p50={statistics.median(lat):.2f} p99={lat[int(0.99 * (len(lat) - 1))]:.2f} rows_last={rows} last={last}")
