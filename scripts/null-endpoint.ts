/**
 * The ceiling of the machine: an HTTP server that accepts PUT bodies and discards them, and answers
 * GET with N bytes from memory, doing no S3 work at all. scripts/bench.ts runs the same client
 * against it and against datamesh, side by side.
 *   npx tsx scripts/null-endpoint.ts PORT
 */
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 9900);
const block = Buffer.alloc(1024 * 1024, 0x5a);

const server = createServer((req, res) => {
  if (req.method === 'PUT') {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      res.writeHead(200, { ETag: '"0"', 'Content-Length': '0' });
      res.end();
    });
    return;
  }
  const size = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('size') ?? 64 * 1024 * 1024);
  res.writeHead(200, { 'Content-Length': String(size), 'Content-Type': 'binary/octet-stream' });
  let left = size;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!res.write(n === block.length ? block : block.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`null endpoint on http://127.0.0.1:${port}\n`));
