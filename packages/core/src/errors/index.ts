// The door of errors/: what other folders of core may use from it (the code tables ERRORS and ERROR_CLASSES
// included; the root names only the classes, isJitProvisionError and the types).
export * from './errors';
export { type HttpResponse, toHttpResponse } from './http';
