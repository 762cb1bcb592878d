// Every download leaves through here: a descriptive file name, the bytes' SHA-256 and row
// count handed to the download hook (the audit trail hangs on it) before the first byte
// is sent, and temporary files served with res.sendFile from one fixed folder by a name
// the server chose, never a path from the request.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request, Response } from 'express';

export interface DownloadInfo {
  /** What was exported: 'results', 'report', 'gap-analysis', 'chart-data', 'chart-image'. */
  kind: string;
  filename: string;
  contentType: string;
  /** Data rows in the file (images: 0). */
  rows: number;
  bytes: number;
  sha256: string;
  params: Record<string, unknown>;
  run_id: string | null;
}

export type DownloadHook = (req: Request, info: DownloadInfo) => void | Promise<void>;

export const CONTENT_TYPES: Record<string, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  json: 'application/json; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
  arrow: 'application/vnd.apache.arrow.file',
  svg: 'image/svg+xml',
  png: 'image/png',
};

/** File-name safe: letters, digits, dot, dash and underscore. */
export function safeName(parts: string[], ext: string): string {
  const stem = ['closeloop', ...parts.filter(Boolean)].join('-').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 180);
  return `${stem}.${ext}`;
}

function disposition(filename: string): string {
  return `attachment; filename="${filename}"`;
}

export async function sendBuffer(req: Request, res: Response, hook: DownloadHook | undefined, body: Buffer | string, info: Omit<DownloadInfo, 'bytes' | 'sha256' | 'contentType'> & { ext: string }) {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const full: DownloadInfo = { ...withoutExt(info), contentType: CONTENT_TYPES[info.ext] ?? 'application/octet-stream', bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
  await hook?.(req, full);
  res.setHeader('Content-Type', full.contentType);
  res.setHeader('Content-Disposition', disposition(full.filename));
  res.setHeader('Cache-Control', 'private, no-store');
  res.send(buf);
}

function withoutExt<T extends { ext: string }>(i: T): Omit<T, 'ext'> {
  const { ext: _ext, ...rest } = i;
  void _ext;
  return rest;
}

/** Put a UTF-8 byte-order mark before a (possibly large) file's bytes, streaming, for Excel. */
export async function prependBom(path: string): Promise<void> {
  const tmp = `${path}.bom`;
  await writeFile(tmp, '\uFEFF');
  await pipeline(createReadStream(path), createWriteStream(tmp, { flags: 'a' }));
  await rename(tmp, path);
}

/** A private folder for temporary export files, removed when the server closes. */
export class ExportFolder {
  readonly dir = mkdtempSync(join(tmpdir(), 'closeloop-exports-'));

  /** A fresh file name inside the folder (the server's choice, never the request's). */
  newFile(ext: string): { name: string; path: string } {
    const name = `${randomBytes(12).toString('hex')}.${ext}`;
    return { name, path: join(this.dir, name) };
  }

  async send(req: Request, res: Response, hook: DownloadHook | undefined, name: string, info: Omit<DownloadInfo, 'bytes' | 'sha256' | 'contentType'> & { ext: string }) {
    const path = join(this.dir, name);
    const cleanup = () => void unlink(path).catch(() => undefined);
    try {
      const s = await stat(path);
      const sha256 = await new Promise<string>((resolve, reject) => {
        const h = createHash('sha256');
        createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
      });
      const full: DownloadInfo = { ...withoutExt(info), contentType: CONTENT_TYPES[info.ext] ?? 'application/octet-stream', bytes: s.size, sha256 };
      await hook?.(req, full);
      res.setHeader('Content-Type', full.contentType);
      res.setHeader('Content-Disposition', disposition(full.filename));
      res.setHeader('Cache-Control', 'private, no-store');
      await new Promise<void>((resolve, reject) => {
        res.sendFile(name, { root: this.dir, dotfiles: 'deny', headers: { 'Content-Type': full.contentType } }, (err) => (err && !res.headersSent ? reject(err) : resolve()));
      });
    } finally {
      cleanup();
    }
  }

  close() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
