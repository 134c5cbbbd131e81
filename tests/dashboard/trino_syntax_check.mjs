// Parses SQL statements with node-sql-parser's Trino grammar (Athena engine 3 runs Trino's SQL):
// a second opinion on the SQL lote says runs on Athena as it is (the dashboard's charts marked
// "athena": true and the views of `lote query --athena-ddl`). A grammar check only: it knows no
// function names (julianday passes; serve_cli_test refuses those by name) and accepts some
// operators Trino does not have. Before the statements, a control that Trino refuses (SQLite's
// two-argument min) must be refused, so that a parser that accepts everything fails the check.
//
// Usage: node tests/dashboard/trino_syntax_check.mjs FILE
//   FILE: a JSON array of SQL strings. Prints {"checked": N, "errors": [{"sql", "error"}]} and
//   exits 1 when a statement does not parse or the control does.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Parser } = require('node-sql-parser');

const parser = new Parser();
const statements = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const errors = [];
const parses = (sql) => {
  try {
    parser.astify(sql, { database: 'trino' });
    return null;
  } catch (e) {
    return String(e.message).slice(0, 500);
  }
};
if (parses('SELECT min(a, b) FROM t') === null) {
  errors.push({ sql: 'SELECT min(a, b) FROM t', error: 'the control parsed' });
}
for (const sql of statements) {
  const error = parses(sql);
  if (error !== null) errors.push({ sql, error });
}
process.stdout.write(JSON.stringify({ checked: statements.length, errors }) + '\n');
process.exit(errors.length === 0 ? 0 : 1);
