"""Daily job peer: DuckDB over eventlake's silver. usage: daily_duckdb_lake.py <lake>/silver <outdir>
daily_duckdb.py with two changes that eventlake's silver layout needs, the SQL otherwise the same:
the tables of the event types have different columns (union_by_name=true), and the Hive partition
columns dt and hour are dropped so that dt is derived from created_at as the peer does."""
import sys, os, shutil, duckdb
silver, out = sys.argv[1], sys.argv[2]
shutil.rmtree(out, ignore_errors=True); os.makedirs(out)
con = duckdb.connect()
con.execute(f"""CREATE TEMP TABLE d AS SELECT * EXCLUDE (rn, dt, hour), strftime(make_timestamp(created_at * 1000000), '%Y-%m-%d') AS dt FROM
  (SELECT *, row_number() OVER (PARTITION BY event_uuid ORDER BY created_at) AS rn
   FROM read_parquet('{silver}/**/*.parquet', hive_partitioning=true, union_by_name=true)) WHERE rn = 1""")
con.execute(f"COPY d TO '{out}/gold' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_type, dt))")
con.execute(f"""COPY (SELECT event_type, dt, count(*) AS events, count(DISTINCT user_id) AS users FROM d GROUP BY ALL)
  TO '{out}/gold_daily_agg.parquet' (FORMAT parquet, COMPRESSION zstd)""")
