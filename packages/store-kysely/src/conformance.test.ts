import { runStoreConformance } from '@jit-provision/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { createKyselyStore, type KyselyStore, migrate } from './index';
import {
  createTestEngine,
  ENGINE_LABEL,
  ENGINES,
  engineAbsence,
  openEngine,
  type TestEngine,
} from './test-support/engines';

for (const dialect of ENGINES) {
  const absent = await engineAbsence(dialect);
  describe.skipIf(absent !== undefined)(
    `${ENGINE_LABEL[dialect]}${absent ? ` (skipped: ${absent})` : ''}`,
    () => {
      let engine: TestEngine;
      const broken: Array<{ destroy(): Promise<void> }> = [];
      beforeAll(async () => {
        engine = await createTestEngine(dialect, 'conf');
        await migrate(engine.db);
      });
      afterAll(async () => {
        await Promise.all(broken.map((db) => db.destroy()));
        await engine?.close();
      });
      runStoreConformance<KyselyStore>({
        name: `store-kysely (${ENGINE_LABEL[dialect]})`,
        createStore: () => createKyselyStore({ db: engine.db, changes: { pollMs: 50 } }),
        cleanup: (store) => store.close(),
        createBrokenStore: () => {
          // A server that is not there (a closed port), or a SQLite file in a directory that does not exist.
          const db = openEngine(
            dialect === 'sqlite'
              ? { ENGINE: 'sqlite', ENGINE_PLACE: '/nonexistent-jp-dir/x.db' }
              : {
                  ...engine.env,
                  ENGINE_URL:
                    dialect === 'mysql' ? 'mysql://root@127.0.0.1:1' : 'postgres://postgres@127.0.0.1:1/x',
                },
          );
          broken.push(db);
          return createKyselyStore({ db, changes: false });
        },
      });
    },
  );
}
