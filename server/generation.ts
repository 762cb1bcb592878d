// The published generation the server reads, and the swap to a new one.
//
// A pipeline run publishes a new DuckDB file and then replaces data/current.json. The
// server notices (a stat of the pointer, at most once per checkIntervalMs) and opens the
// new file READ-ONLY; requests that started on the old generation keep it until they end
// (it is reference-counted and closed when the last of them is done), so a response never
// mixes two generations. A published file is never written again, so everything computed
// from it can be cached for as long as the generation lives.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Response } from 'express';
import { openDatabase, rows, type Database, type Row } from '../models/duckdb.ts';
import { readPointer, storePaths, type Pointer } from '../pipelines/store.ts';
import { HttpError } from './http.ts';
import { partnerView, partnerWithheldAs } from './data/partnerView.ts';

export interface GenerationOptions {
  /** How often the pointer is checked, at most (ms). */
  checkIntervalMs?: number;
  /** Connections per generation (queries beyond these wait their turn). */
  connections?: number;
  /** Bytes of cached responses per generation. */
  cacheBytes?: number;
  memoryLimit?: string;
  /**
   * DuckDB threads per generation. One by default: the server's queries are small filters
   * of published aggregates, and a second busy thread on a 2-core machine starves the
   * event loop (every other request waits).
   */
  threads?: number;
  log?: (line: string) => void;
}

export interface RunInfo {
  run_id: string;
  as_of: string;
  started_at: string | null;
  published_at: string | null;
}

/** A bounded least-recently-used cache of computed values (with single flight: one computation per key). */
class Memo {
  private entries = new Map<string, { value: Promise<unknown>; size: number }>();
  private bytes = 0;
  constructor(private readonly maxBytes: number) {}

  get<T>(key: string, compute: () => Promise<T>, sizeOf: (v: T) => number): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value as Promise<T>;
    }
    const entry = { value: compute() as Promise<unknown>, size: 0 };
    this.entries.set(key, entry);
    entry.value.then(
      (v) => {
        if (this.entries.get(key) !== entry) return;
        entry.size = sizeOf(v as T);
        this.bytes += entry.size;
        this.evict();
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key); // never cache a failure
      },
    );
    return entry.value as Promise<T>;
  }

  private evict() {
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.size;
    }
  }

  clear() {
    this.entries.clear();
    this.bytes = 0;
  }
}

export class Generation {
  readonly runId: string;
  readonly asOf: string;
  readonly file: string;
  private idle: DuckDBConnection[] = [];
  private waiting: Array<(c: DuckDBConnection) => void> = [];
  private opened = 0;
  private refs = 0;
  private retired = false;
  private closed = false;
  private readonly memoCache: Memo;
  tables = new Map<string, string[]>();
  runInfo!: RunInfo;

  private constructor(
    readonly pointer: Pointer,
    private readonly db: Database,
    private readonly maxConnections: number,
    cacheBytes: number,
  ) {
    this.runId = pointer.run_id;
    this.asOf = pointer.as_of;
    this.file = db.path;
    this.memoCache = new Memo(cacheBytes);
    this.idle.push(db.conn);
    this.opened = 1;
  }

  static async open(pointer: Pointer, file: string, opts: GenerationOptions): Promise<Generation> {
    const db = await openDatabase(file, { readOnly: true, memoryLimit: opts.memoryLimit ?? '1GB', threads: opts.threads ?? 1 });
    const g = new Generation(pointer, db, Math.max(1, opts.connections ?? 4), opts.cacheBytes ?? 64 * 1024 * 1024);
    try {
      const cols = await rows<{ t: string; c: string }>(db.conn, `SELECT table_name AS t, column_name AS c FROM duckdb_columns()
        WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name, column_index`);
      for (const { t, c } of cols) g.tables.set(t, [...(g.tables.get(t) ?? []), c]);
      const info = g.tables.has('run_info')
        ? (await rows<Row>(db.conn, `SELECT run_id, CAST(as_of AS VARCHAR) AS as_of, CAST(started_at AS VARCHAR) AS started_at, CAST(published_at AS VARCHAR) AS published_at FROM run_info LIMIT 1`))[0]
        : undefined;
      g.runInfo = {
        run_id: String(info?.run_id ?? pointer.run_id),
        as_of: String(info?.as_of ?? pointer.as_of),
        started_at: (info?.started_at as string | null) ?? null,
        published_at: (info?.published_at as string | null) ?? pointer.published_at,
      };
    } catch (err) {
      db.close();
      throw err;
    }
    return g;
  }

  hasTable(name: string): boolean {
    return this.tables.has(name);
  }

  hasColumns(table: string, ...columns: string[]): boolean {
    const cols = this.tables.get(table);
    return Boolean(cols && columns.every((c) => cols.includes(c)));
  }

  /** A read-only query on a pooled connection of this generation. */
  async query<T = Row>(sql: string, params?: Record<string, unknown> | unknown[]): Promise<T[]> {
    if (this.closed) throw new Error(`generation ${this.runId} is closed`);
    this.refs += 1;
    const conn = await this.connection();
    try {
      return await rows<T>(conn, sql, params);
    } finally {
      this.giveBack(conn);
      this.unref();
    }
  }

  /** Run `f` with a pooled connection of this generation (for COPY exports). */
  async withConnection<T>(f: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`generation ${this.runId} is closed`);
    this.refs += 1;
    const conn = await this.connection();
    try {
      return await f(conn);
    } finally {
      this.giveBack(conn);
      this.unref();
    }
  }

  /** Cached for the life of the generation; `sizeOf` bounds the cache in bytes. */
  memo<T>(key: string, compute: () => Promise<T>, sizeOf: (v: T) => number = (v) => (typeof v === 'string' ? v.length : Buffer.isBuffer(v) ? v.length : 4096)): Promise<T> {
    return this.memoCache.get(key, compute, sizeOf);
  }

  private async connection(): Promise<DuckDBConnection> {
    const c = this.idle.pop();
    if (c) return c;
    if (this.opened < this.maxConnections) {
      this.opened += 1;
      try {
        return await (this.db.instance as DuckDBInstance).connect();
      } catch (err) {
        this.opened -= 1;
        throw err;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private giveBack(conn: DuckDBConnection) {
    const next = this.waiting.shift();
    if (next) next(conn);
    else this.idle.push(conn);
  }

  /** @internal */ ref() {
    this.refs += 1;
  }

  /** @internal */ unref() {
    this.refs -= 1;
    if (this.retired && this.refs === 0) this.close();
  }

  /** @internal */ retire() {
    this.retired = true;
    if (this.refs === 0) this.close();
  }

  get isClosed() {
    return this.closed;
  }

  get activeRefs() {
    return this.refs;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.memoCache.clear();
    for (const c of this.idle) if (c !== this.db.conn) c.closeSync();
    this.idle = [];
    this.db.close();
  }
}

export interface Lease {
  gen: Generation;
  release(): void;
}

export class NothingPublishedYet extends HttpError {
  constructor() {
    super(503, 'nothing is published yet: run `closeloop run` (or `npm start` for the demo) first', { reason: 'nothing_published' });
  }
}

export class GenerationManager {
  private current: Generation | null = null;
  private lastCheck = 0;
  private pointerKey = '';
  private checking: Promise<void> | null = null;
  private closed = false;
  private readonly pointerPath: string;
  private readonly publishedDir: string;
  private readonly interval: number;

  constructor(
    readonly root: string,
    private readonly opts: GenerationOptions = {},
  ) {
    const p = storePaths(root);
    this.pointerPath = p.pointer;
    this.publishedDir = p.publishedDir;
    this.interval = opts.checkIntervalMs ?? 1000;
  }

  /** The current generation, pinned until release(). Throws 503 when nothing is published. */
  async acquire(): Promise<Lease> {
    if (this.closed) throw new HttpError(503, 'the server is shutting down');
    if (!this.current || Date.now() - this.lastCheck >= this.interval) {
      this.checking ??= this.check().finally(() => {
        this.checking = null;
      });
      await this.checking;
    }
    const gen = this.current;
    if (!gen) throw new NothingPublishedYet();
    gen.ref();
    let released = false;
    return {
      gen,
      release: () => {
        if (released) return;
        released = true;
        gen.unref();
      },
    };
  }

  /** Look at the pointer; open and switch to a new generation when it names one. */
  private async check() {
    this.lastCheck = Date.now();
    const s = await stat(this.pointerPath).catch(() => null);
    const key = s ? `${s.ino}:${s.size}:${s.mtimeMs}` : '';
    if (key === this.pointerKey && this.current) return;
    const pointer = await readPointer(storePaths(this.root)).catch((err: Error) => {
      this.opts.log?.(`pointer ${this.pointerPath} unreadable: ${err.message}`);
      return null;
    });
    if (!pointer) return;
    // The server opens published files only: a pointer naming anything but a plain file in published/ is refused.
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\.duckdb$/.test(pointer.published)) {
      this.opts.log?.(`pointer ${this.pointerPath} names '${pointer.published.slice(0, 80)}', not a file of ${this.publishedDir}: ignored`);
      return;
    }
    if (this.current && pointer.published === this.current.pointer.published) {
      this.pointerKey = key;
      return;
    }
    try {
      const next = await Generation.open(pointer, join(this.publishedDir, pointer.published), this.opts);
      if (this.closed) {
        next.close();
        return;
      }
      const old = this.current;
      this.current = next;
      this.pointerKey = key;
      this.opts.log?.(`serving run ${pointer.run_id} (as of ${pointer.as_of})`);
      old?.retire();
    } catch (err) {
      // Keep serving the generation we have; try again at the next check.
      this.opts.log?.(`could not open published generation ${pointer.published}: ${(err as Error).message}`);
    }
  }

  get currentRunId(): string | null {
    return this.current?.runId ?? null;
  }

  close() {
    this.closed = true;
    this.current?.retire();
    this.current = null;
  }
}

/**
 * The generation pinned to this response: acquired on first use, released when the
 * response ends (finished or aborted), so every query of one request reads one file.
 */
export function pinGeneration(res: Response, manager: GenerationManager): Promise<Generation> {
  const locals = res.locals as { lease?: Promise<Lease> };
  if (!locals.lease) {
    locals.lease = manager.acquire();
    locals.lease.then(
      (lease) => {
        if (res.writableEnded || res.destroyed) {
          // The response ended before the lease arrived (client gone): release at once.
          queueMicrotask(() => lease.release());
          return;
        }
        res.once('close', lease.release);
        res.once('finish', lease.release);
      },
      () => undefined,
    );
  }
  // A partner's every query reads through its view (server/data/partnerView.ts).
  const principal = (res.locals as { principal?: { role: string; org: string | null } }).principal;
  const org = principal?.role === 'partner' ? principal.org : null;
  return locals.lease.then(async (l) => (org ? partnerView(l.gen, org, await partnerWithheldAs(l.gen, org)) : l.gen));
}
