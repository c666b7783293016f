// The journey console (/console, static files from web/console) and the interactive API docs (/docs),
// both served locally: no CDN, they work without internet.
import { readFile } from 'node:fs/promises';
import { packagePath } from '../../package-root.js';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import swaggerUi from '@fastify/swagger-ui';

const CONSOLE_DIR = packagePath('web/console/');

const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export default async function consoleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true }, staticCSP: true });

  // '/console' and '/console/' reach this one route (trailing slashes are ignored): the page needs the
  // slash so that its relative asset URLs resolve under /console/
  const index = await readFile(`${CONSOLE_DIR}index.html`, 'utf8');
  app.get('/console', { schema: { hide: true } }, async (request, reply) => {
    const [path, query] = request.url.split('?');
    if (!path.endsWith('/')) return reply.redirect(`/console/${query ? `?${query}` : ''}`, 302);
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) reply.header(name, value);
    return reply.type('text/html; charset=utf-8').send(index);
  });
  await app.register(fastifyStatic, {
    root: CONSOLE_DIR,
    prefix: '/console/',
    decorateReply: false,
    index: false,
    schemaHide: true,
    setHeaders: (res) => {
      for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.header(name, value);
    },
  });
}
