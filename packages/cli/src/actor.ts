import { userInfo } from 'node:os';

/**
 * Who the events of a change name as its `actor`: `--actor` when given, else `cli:<os user>`, so an audit
 * trail fed by `onUserEvent` tells a change made from the command line from one made by the app.
 *
 * @example
 * ```ts
 * actorOf({}); // 'cli:deploy'
 * actorOf({ actor: 'ops@example.com' }); // 'ops@example.com'
 * ```
 */
export function actorOf(options: { actor?: string | undefined }): string {
  if (options.actor !== undefined) return options.actor;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // No passwd entry for this uid (some containers): still say it came from the CLI.
    return 'cli';
  }
}
