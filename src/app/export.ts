// Streams an export as one JSON array, page by page (constant memory at any size): service ids, or
// with content whole services with their states, tasks and extensions.
import { stringifyJson } from '../domain/json.js';
import { parseExtensionSelection } from '../domain/present.js';
import type { ExportRequest } from '../domain/maintenance.js';
import { serviceViews, type ViewContext } from './views.js';

export const EXPORT_PAGE = 500;

export async function* exportChunks(ctx: ViewContext, request: ExportRequest, onPage?: (count: number) => void): AsyncGenerator<string> {
  const nesting = {
    activeStates: true,
    completedStates: true,
    activeTasks: true,
    completedTasks: true,
    extensions: parseExtensionSelection(['*'], 'service'),
  };
  yield '[';
  let after = 0n;
  let first = true;
  for (;;) {
    const page = await ctx.store.exportPage(request.filter, after, EXPORT_PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1].serviceId;
    onPage?.(page.length);
    const items = request.content ? (await serviceViews(ctx, page, nesting)).map((v) => stringifyJson(v)) : page.map((s) => s.serviceId.toString());
    yield (first ? '' : ',') + items.join(',');
    first = false;
    if (page.length < EXPORT_PAGE) break;
  }
  yield ']';
}
