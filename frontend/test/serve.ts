// What the page tests share: fetch answered from a table of routes (every
// call recorded), the response builders, and the act() wrappers that type
// into a field, submit a form and let pending promises settle.
import { act } from 'preact/test-utils';
import { vi } from 'vitest';

export const json = (status: number, body: unknown, type = 'application/json') =>
  new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } });

export const problem = (status: number, detail: string, extra: Record<string, unknown> = {}) =>
  json(status, { type: 'about:blank', title: 'x', status, detail, ...extra }, 'application/problem+json');

export const flush = () =>
  act(async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  });

export type Call = { url: string; method: string; body: unknown };

/** Answers fetch from a table of "METHOD path" → response; records every call. */
export function serve(routes: Record<string, (body: unknown) => Response>) {
  const calls: Call[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const method = init.method ?? 'GET';
      const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
      calls.push({ url, method, body });
      const h = routes[`${method} ${url}`];
      return h ? h(body) : problem(404, `no route ${method} ${url}`);
    }),
  );
  return calls;
}

export async function type(el: HTMLInputElement | HTMLTextAreaElement | null, value: string) {
  await act(() => {
    el!.value = value;
    el!.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export async function submit(root: HTMLElement, selector: string) {
  await act(() => {
    root.querySelector(selector)!.dispatchEvent(new Event('submit', { cancelable: true }));
  });
}
