/**
 * `fidkd serve`: a static file server for an exported site, on the loopback interface unless told otherwise. Any
 * static server opens the site; this one only needs Node and sets the types the page relies on (application/wasm
 * for tfjs's streaming compilation).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { UserError } from '../ui/errors.js';
import { SITE_MARKER } from './export.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

export interface ServeOptions {
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
}

export interface ServedSite {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves `dir` (an exported site) over HTTP; resolves once listening. */
export async function serveSite(dir0: string, options: ServeOptions = {}): Promise<ServedSite> {
  const dir = resolve(dir0);
  if (!existsSync(join(dir, 'index.html')) || !existsSync(join(dir, SITE_MARKER))) {
    throw new UserError(`${dir} is not a site written by \`fidkd export-web\` (no index.html and ${SITE_MARKER})`, 'run `fidkd export-web RUN_DIR` first');
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !(file === dir || file.startsWith(dir + sep))) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 403 : 405).end();
      return;
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': statSync(file).size,
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      fail(err.code === 'EADDRINUSE' ? new UserError(`port ${port} on ${host} is in use`, 'pass another --port (0 picks a free one)') : err);
    });
    server.listen(port, host, () => ok());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/`,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
