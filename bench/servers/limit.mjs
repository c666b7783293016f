// The limit: a bare node:http server that parses the same JSON body and answers with a small JSON
// body. No framework, no storage. Answers the bench's scenarios by shape only.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (body) JSON.parse(body);
    if (req.method === 'POST' && (req.url.endsWith('/start') || req.url.endsWith('/transition'))) {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(req.url.includes('/states/') ? '{"state_id":1}' : req.url.includes('/tasks/') ? '{"task_id":1}' : '{"service_id":1}');
    } else if (req.method === 'POST') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"service_id":1,"service_type":"A","customer_id":"c1","started":{"timestamp":"2024-01-01T00:00:00.000Z"}}');
    }
  });
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
