import type { HttpResponse } from '@jit-provision/core/adapter';
import { HTTPException } from 'hono/http-exception';

/** The core's HTTP answer as the `HTTPException` Hono middlewares throw, carrying a ready JSON `Response`. */
export function httpException({ status, headers, body }: HttpResponse, cause: unknown): HTTPException {
  const res = new Response(JSON.stringify(body), { status, headers });
  return new HTTPException(status as 401, { res, cause });
}
