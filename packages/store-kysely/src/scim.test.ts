import { randomBytes } from 'node:crypto';
import type { ScimFilter, ScimUserFilterAttribute } from '@jit-provision/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyStore, type KyselyStore, migrate } from './index';
import {
  createTestEngine,
  ENGINE_LABEL,
  ENGINES,
  engineAbsence,
  type TestEngine,
} from './test-support/engines';

type Filter = ScimFilter<ScimUserFilterAttribute>;

for (const dialect of ENGINES) {
  const absent = await engineAbsence(dialect);
  describe.skipIf(absent !== undefined)(
    `scim filters on ${ENGINE_LABEL[dialect]}${absent ? ` (skipped: ${absent})` : ''}`,
    () => {
      let engine: TestEngine;
      let store: KyselyStore;
      const issuer = `https://scim-${randomBytes(4).toString('hex')}.test`;
      const ids = new Map<string, string>();
      beforeAll(async () => {
        engine = await createTestEngine(dialect, 'scim');
        await migrate(engine.db);
        store = createKyselyStore({ db: engine.db, changes: false });
        // Names made of what SQL treats specially: LIKE wildcards, the escape character, a quote.
        for (const userName of [
          'a_b@example.com',
          'a%b@example.com',
          'a\\b@example.com',
          "o'brien@example.com",
          'axb@example.com',
        ]) {
          const { record } = await store.scim.createUser({
            issuer,
            subject: null,
            userName,
            externalId: null,
            attributes: { emails: [{ value: userName, type: 'work', primary: 'True' }] },
            email: null,
            name: null,
            username: `scim:${issuer}:${userName}`,
            role: 'user',
          });
          ids.set(record.user.id, userName);
        }
      });
      afterAll(async () => {
        await store?.close();
        await engine?.close();
      });

      const find = async (filter: Filter) =>
        (await store.scim.findUsers(issuer, { filter, startIndex: 1, count: 100 })).resources
          .map((r) => ids.get(r.user.id))
          .sort();

      it('co, sw and ew take %, _ and \\ literally; a quote is only a value', async () => {
        expect(await find({ op: 'co', attribute: 'userName', value: '_' })).toEqual(['a_b@example.com']);
        expect(await find({ op: 'co', attribute: 'userName', value: '%' })).toEqual(['a%b@example.com']);
        expect(await find({ op: 'sw', attribute: 'userName', value: 'A\\' })).toEqual(['a\\b@example.com']);
        expect(await find({ op: 'eq', attribute: 'userName', value: "O'Brien@example.com" })).toEqual([
          "o'brien@example.com",
        ]);
        expect(await find({ op: 'ew', attribute: 'userName', value: "' OR '1'='1" })).toEqual([]);
      });

      it('value paths read emails as written ("True" is primary); ids that are no UUID find nothing', async () => {
        const emails: Filter = {
          op: 'some',
          attribute: 'emails',
          filter: { op: 'eq', attribute: 'primary', value: true },
        };
        expect(await find(emails)).toHaveLength(5);
        expect(await find({ op: 'eq', attribute: 'id', value: "x' OR 1=1 --" })).toEqual([]);
        expect(await store.scim.getUser(issuer, 'not-a-uuid')).toBeNull();
        expect(await store.scim.getGroup(issuer, 'not-a-uuid')).toBeNull();
        expect(await store.scim.changeMembers(issuer, 'not-a-uuid', { add: ['x'] })).toBeNull();
        expect(await store.scim.deleteGroup(issuer, 'not-a-uuid')).toBe(false);
      });
    },
  );
}
