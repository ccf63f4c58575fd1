/**
 * Stores as an older duraflow left them, for migration tests: a SQLite file or a PostgreSQL schema migrated only up
 * to a given version, with rows written in that version's columns. Each call registers its cleanup with the caller.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate as migrateSqlite } from '../../src/store/sqlite/schema.js';
import { migrate as migratePg, tablesOf } from '../../src/store/postgres/schema.js';
import { parsePostgresUrl, PgDatabase } from '../../src/store/postgres/connection.js';
import { silentLogger } from '../../src/sdk/logger.js';
import { newTestSchema, type TestSchema } from './postgres.js';

/** Removes a SQLite file with its WAL and shared-memory files. */
export function removeSqliteFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

/**
 * A new SQLite file migrated to `version` (WAL mode, as a store leaves it), with `insert` run into its
 * `instances` table (`insert` is what follows `INSERT INTO instances`); its path goes to `paths` for cleanup.
 */
export function oldSqliteFile(version: number, insert: string, paths: string[]): string {
  const path = join(tmpdir(), `duraflow-v${version}-${randomUUID()}.db`);
  paths.push(path);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    migrateSqlite(db, version);
    db.exec(`INSERT INTO instances ${insert}`);
  } finally {
    db.close();
  }
  return path;
}

/**
 * A new PostgreSQL schema migrated to `version`, with `insert` run into its instances table (what follows
 * `INSERT INTO <instances>`); its drop goes to `drops`.
 */
export async function oldPgSchema(version: number, insert: string, drops: (() => Promise<void>)[]): Promise<TestSchema> {
  const schema = newTestSchema();
  drops.push(() => schema.drop());
  const location = parsePostgresUrl(schema.url);
  const tables = tablesOf(location.schema);
  const db = new PgDatabase(location, silentLogger, 1);
  try {
    await migratePg(db, tables, version);
    await db.query(`INSERT INTO ${tables.instances} ${insert}`);
  } finally {
    await db.pool.end();
  }
  return schema;
}
