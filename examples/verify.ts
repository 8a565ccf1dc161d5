// Verifying on your endpoint: check the Standard Webhooks signature on the raw body before trusting it.
// Run: WEBHOOK_SECRET=whsec_… PORT=4000 npx tsx examples/verify.ts
import { createServer } from 'node:http';
import { verifyWebhook } from '@hookrelay/sdk';

const secret = process.env.WEBHOOK_SECRET!;
const seen = new Set<string>(); // deduplicate on webhook-id: retries carry the same id

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const event = verifyWebhook(Buffer.concat(chunks), req.headers as Record<string, string>, secret) as { id: string; type: string };
      if (!seen.has(event.id)) {
        seen.add(event.id);
        console.log('verified', event.type, event.id);
      }
      res.writeHead(200).end(); // answer fast; do the work afterwards
    } catch (err) {
      console.log('rejected:', (err as Error).message);
      res.writeHead(400).end();
    }
  });
});
server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => console.log('listening'));
