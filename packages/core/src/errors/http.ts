import { isJitProvisionError } from './errors';

/** A framework-neutral HTTP answer: adapters copy it onto their response object as is. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** `field` only for `invalid_field` (422): the request field that was refused. */
  body: { error: string; error_description: string; field?: string };
}

/**
 * THE one place errors become HTTP responses, so every adapter answers alike.
 * A {@link JitProvisionError} keeps its status, headers (`WWW-Authenticate`, `Retry-After`) and public
 * code; anything else is a 500 `server_error` that reveals nothing about the failure. Server-side
 * configuration errors keep their code but not their message, which may name internal settings; a 409
 * `reservation_conflict` answers a fixed text, never another identity's username.
 *
 * @example
 * ```ts
 * try {
 *   req.auth = await provisioner.authenticate({ headers: req.headers });
 * } catch (err) {
 *   const { status, headers, body } = toHttpResponse(err);
 *   res.status(status).set(headers).json(body);
 * }
 * ```
 */
export function toHttpResponse(err: unknown): HttpResponse {
  if (isJitProvisionError(err)) {
    const exposeMessage = err.status < 500 || err.code === 'provisioning_unavailable';
    const body: HttpResponse['body'] = {
      error: err.publicCode,
      error_description: exposeMessage ? err.publicMessage : 'Internal server error',
    };
    if (err.code === 'invalid_field') body.field = err.field;
    return { status: err.status, headers: { ...err.headers, 'content-type': 'application/json' }, body };
  }
  return {
    status: 500,
    headers: { 'content-type': 'application/json' },
    body: { error: 'server_error', error_description: 'Internal server error' },
  };
}
