// Reads a JSON lake and a Parquet lake with DuckDB and prints, per partition directory, the row
// count of each, the column types DuckDB sees in each, and the count of non-null values of each
// named column in each. Input (stdin): {"json": DIR, "parquet": DIR, "partitions": [REL...],
// "columns": [NAME...]}. Output (stdout): one JSON object keyed by partition.
import { DuckDBInstance } from '@duckdb/node-api';

const spec = JSON.parse(await new Promise((resolve, reject) => {
  let s = '';
  process.stdin.on('data', (d) => { s += d; });
  process.stdin.on('end', () => resolve(s));
  process.stdin.on('error', reject);
}));
const quote = (s) => "'" + s.replaceAll("'", "''") + "'";
const ident = (s) => '"' + s.replaceAll('"', '""') + '"';
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();

const out = {};
for (const part of spec.partitions) {
  const sources = {
    json: `read_json_auto(${quote(spec.json + '/' + part + '/*')}, format = 'newline_delimited', hive_partitioning = false)`,
    parquet: `read_parquet(${quote(spec.parquet + '/' + part + '/*.parquet')}, hive_partitioning = false)`,
  };
  const res = {};
  for (const [name, src] of Object.entries(sources)) {
    const types = {};
    for (const r of await rows(`DESCRIBE SELECT * FROM ${src}`)) types[r.column_name] = r.column_type;
    const present = spec.columns.filter((c) => c in types);
    const counts = present.map((c) => `count(${ident(c)}) AS ${ident(c)}`);
    const [agg] = await rows(`SELECT count(*) AS "rows"${counts.length ? ', ' + counts.join(', ') : ''} FROM ${src}`);
    const nonNull = {};
    for (const c of present) nonNull[c] = Number(agg[c]);
    res[name] = { rows: Number(agg.rows), types, nonNull };
  }
  out[part] = res;
}
process.stdout.write(JSON.stringify(out));
