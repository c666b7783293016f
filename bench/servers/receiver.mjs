// A webhook receiver for the bench: answers every POST 204 after reading it; GET /count says how
// many deliveries it took (distinct webhook-id values and requests in all).
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const ids = new Set();
let requests = 0;
createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ distinct: ids.size, requests }));
      return;
    }
    requests++;
    ids.add(req.headers['webhook-id']);
    res.writeHead(204);
    res.end();
  });
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
