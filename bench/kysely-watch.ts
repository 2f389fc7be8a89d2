// One app process of the store-kysely feed benchmark: follows the change feed and prints
// `seen <userId> <Date.now()>` for every change (started by kysely.ts).
import { createKyselyStore } from '@jit-provision/store-kysely';
import { type Engine, open } from './kysely-engines';

const db = open(process.argv[2] as Engine, process.argv[3] as string, 2);
const store = createKyselyStore({ db, changes: { pollMs: Number(process.argv[4] ?? 500) } });
await store.changes?.subscribe((change) => process.stdout.write(`seen ${change.userId} ${Date.now()}\n`), {
  onStatus: (status) => process.stdout.write(`${status}\n`),
});
setInterval(() => {}, 60_000);
