// The door of events/: what other folders of core may use from it.
export { runHooks } from './hooks';
export { createOutboxDispatcher, type OutboxDispatcher, type OutboxDispatcherOptions } from './outbox';
