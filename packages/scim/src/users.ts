import type { ScimUserRecord } from '@jit-provision/core';
import type { Route, RouteRequest } from '@jit-provision/core/adapter';
import {
  canonical,
  idOf,
  ifMatchVersion,
  pageOf,
  queryValue,
  type ScimContext,
  scimHandler,
  scimJson,
  viewOf,
} from './context';
import { listResponse } from './discovery';
import { notFound } from './errors';
import { parseFilter, USER_FILTER, USER_URN } from './filter';
import { applyPatch, parsePatch } from './patch';
import { names, project } from './projection';
import { etagOf, type Json, locationOf, parseUser, renderUser } from './resources';

// /Users (RFC 7644 §3): reads from the store's SCIM part, writes through the provisioner's directory, so every
// change is a lifecycle event with actor `scim` and reaches every instance.

/** `active` as asked: disable (and revoke sessions) or enable, only when it differs. */
async function applyActive(
  ctx: ScimContext,
  record: ScimUserRecord,
  active: boolean | undefined,
): Promise<ScimUserRecord> {
  if (active === undefined || (record.user.status !== 'disabled') === active) return record;
  const user = await ctx.directory.setActive(record.user.id, active);
  return { ...record, user };
}

/** One user as answered: its groups looked up, `attributes`/`excludedAttributes` applied, with its ETag. */
async function answerUser(ctx: ScimContext, request: RouteRequest, record: ScimUserRecord, status = 200) {
  const groups = await ctx.directory.scim.groupsOf(ctx.directory.issuer, record.user.id);
  const body = project(renderUser(ctx.resources, record, groups), viewOf(request, USER_URN));
  const headers: Record<string, string> = { etag: etagOf(record.version) };
  if (status === 201) headers['location'] = locationOf(ctx.resources, 'Users', record.user.id);
  return scimJson(status, body, headers);
}

async function current(ctx: ScimContext, id: string): Promise<ScimUserRecord> {
  const record = await ctx.directory.scim.getUser(ctx.directory.issuer, id);
  if (record === null) throw notFound('User', id);
  return record;
}

async function list(ctx: ScimContext, request: RouteRequest) {
  const text = queryValue(request, 'filter');
  const filter = text === undefined ? undefined : parseFilter(text, USER_FILTER);
  const { startIndex, count } = pageOf(request, ctx.maxResults);
  const page = await ctx.directory.scim.findUsers(ctx.directory.issuer, { filter, startIndex, count });
  const view = viewOf(request, USER_URN);
  // A user's groups cost a lookup each: a list answers them only when `attributes` names them.
  const withGroups = names(view, 'groups');
  const resources = await Promise.all(
    page.resources.map(async (record) =>
      project(
        renderUser(
          ctx.resources,
          record,
          withGroups ? await ctx.directory.scim.groupsOf(ctx.directory.issuer, record.user.id) : undefined,
        ),
        view,
      ),
    ),
  );
  return scimJson(200, listResponse(resources, page.totalResults, startIndex));
}

async function create(ctx: ScimContext, request: RouteRequest) {
  const { write, active } = parseUser(request.body);
  const { record } = await ctx.directory.createUser(write);
  // A create means the provider wants this person in: a row it adopts (hidden by a SCIM DELETE, or disabled)
  // is active again unless the body says `active: false`.
  return answerUser(ctx, request, await applyActive(ctx, record, active ?? true), 201);
}

async function replace(ctx: ScimContext, request: RouteRequest) {
  const id = idOf(request);
  const { write, active } = parseUser(request.body);
  const ifVersion = ifMatchVersion(request);
  const record = await ctx.directory.replaceUser(id, write, ifVersion === undefined ? {} : { ifVersion });
  if (record === null) throw notFound('User', id);
  return answerUser(ctx, request, await applyActive(ctx, record, active));
}

async function patch(ctx: ScimContext, request: RouteRequest) {
  const id = idOf(request);
  const operations = parsePatch(request.body, USER_URN);
  let record = await current(ctx, id);
  const before = renderUser(ctx.resources, record) as Json;
  const { write, active } = parseUser(applyPatch(before, operations, USER_URN));
  const ifVersion = ifMatchVersion(request);
  // A PATCH that changes nothing writes nothing (no version bump, no event) and answers 200.
  if (canonical(write) !== canonical(parseUser(before).write) || ifVersion !== undefined) {
    const replaced = await ctx.directory.replaceUser(id, write, ifVersion === undefined ? {} : { ifVersion });
    if (replaced === null) throw notFound('User', id);
    record = replaced;
  }
  return answerUser(ctx, request, await applyActive(ctx, record, active));
}

/** The /Users routes. */
export function userRoutes(ctx: ScimContext): Route[] {
  return [
    { method: 'GET', path: '/Users', handler: scimHandler((request) => list(ctx, request)) },
    { method: 'POST', path: '/Users', handler: scimHandler((request) => create(ctx, request)) },
    {
      method: 'GET',
      path: '/Users/:id',
      handler: scimHandler(async (request) => answerUser(ctx, request, await current(ctx, idOf(request)))),
    },
    { method: 'PUT', path: '/Users/:id', handler: scimHandler((request) => replace(ctx, request)) },
    { method: 'PATCH', path: '/Users/:id', handler: scimHandler((request) => patch(ctx, request)) },
    {
      method: 'DELETE',
      path: '/Users/:id',
      handler: scimHandler(async (request) => {
        const id = idOf(request);
        if (!(await ctx.directory.removeUser(id))) throw notFound('User', id);
        return { status: 204 };
      }),
    },
  ];
}
