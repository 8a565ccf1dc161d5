// A real HTTP CONNECT proxy for the egress tests: tunnels to whatever it is asked and prints one line per
// tunnel ("CONNECT host:port") on stdout. Usage: node connect-proxy.mjs [port] (prints "listening <port>" first;
// a port to come back on the port of a proxy that was stopped).
import { createServer } from 'node:http';
import { connect } from 'node:net';

const server = createServer((_req, res) => {
  res.writeHead(405);
  res.end('CONNECT only');
});
server.on('connect', (req, socket, head) => {
  const [host, port] = req.url.split(/:(?=\d+$)/);
  console.log(`CONNECT ${req.url}`);
  const upstream = connect(Number(port), host.replace(/^\[|\]$/g, ''), () => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  socket.on('error', () => upstream.destroy());
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
