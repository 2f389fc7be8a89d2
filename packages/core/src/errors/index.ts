// The door of errors/: what other folders of core may use from it.
export * from './errors';
export { type HttpResponse, toHttpResponse } from './http';
