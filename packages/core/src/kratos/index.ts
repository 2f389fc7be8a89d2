// `@jit-provision/core/kratos`: the Ory Kratos webhooks as a route table, for an adapter's `kratosWebhooks`
// (or `router`, `routesPlugin`, `subApp`) to mount under a prefix of the app's choice.
export { KRATOS_MAX_BODY_BYTES } from '../adapter';
export {
  type KratosWebhookHandler,
  type KratosWebhookRequest,
  type KratosWebhookResponse,
  type KratosWebhooks,
  type KratosWebhooksOptions,
  kratosWebhooks,
} from './webhooks';
