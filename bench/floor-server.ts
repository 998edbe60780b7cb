/**
 * The floor: a bare node:http server that reads the request body and answers with a fixed small JSON prediction. No
 * framework, no validation, no model — what any Node HTTP service costs on this machine with this load generator.
 * Prints one JSON line `{"url": "http://127.0.0.1:PORT"}` on stdout once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = Buffer.from('{"label":0,"probabilities":[0.98,0.018,0.0000000146]}');
const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(BODY.length) };

const server = createServer((request, response) => {
  request.on('data', () => {});
  request.on('end', () => {
    response.writeHead(200, HEADERS);
    response.end(BODY);
  });
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
