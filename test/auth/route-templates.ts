/** Every route template of an app, read from fastify's printed route tree (for the tests that check each route's scope). */
import type { FastifyInstance } from 'fastify';

export function routeTemplates(app: FastifyInstance): string[] {
  const templates: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?) \([A-Z, ]+\)$/.exec(line);
    if (match === null) continue;
    const depth = (match[1] as string).length / 4;
    stack[depth] = (depth === 0 ? '' : (stack[depth - 1] as string)) + (match[2] as string);
    stack.length = depth + 1;
    templates.push((stack[depth] as string).replace(/^\/\//, '/'));
  }
  return templates;
}
