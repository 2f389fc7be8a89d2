import type { ScimGroupRecord } from '@jit-provision/core';
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
import { GROUP_FILTER, GROUP_URN, parseFilter } from './filter';
import { applyPatch, parsePatch } from './patch';
import { project } from './projection';
import { etagOf, locationOf, parseGroup, renderGroup } from './resources';

// /Groups: groups and memberships through the directory, so the roles mapped from groups follow at once.

function answerGroup(ctx: ScimContext, request: RouteRequest, record: ScimGroupRecord, status = 200) {
  const body = project(renderGroup(ctx.resources, record), viewOf(request, GROUP_URN));
  const headers: Record<string, string> = { etag: etagOf(record.version) };
  if (status === 201) headers['location'] = locationOf(ctx.resources, 'Groups', record.id);
  return scimJson(status, body, headers);
}

async function current(ctx: ScimContext, id: string): Promise<ScimGroupRecord> {
  const record = await ctx.directory.scim.getGroup(ctx.directory.issuer, id);
  if (record === null) throw notFound('Group', id);
  return record;
}

async function list(ctx: ScimContext, request: RouteRequest) {
  const text = queryValue(request, 'filter');
  const filter = text === undefined ? undefined : parseFilter(text, GROUP_FILTER);
  const { startIndex, count } = pageOf(request, ctx.maxResults);
  const page = await ctx.directory.scim.findGroups(ctx.directory.issuer, { filter, startIndex, count });
  const view = viewOf(request, GROUP_URN);
  const resources = page.resources.map((record) => project(renderGroup(ctx.resources, record), view));
  return scimJson(200, listResponse(resources, page.totalResults, startIndex));
}

async function replace(ctx: ScimContext, request: RouteRequest) {
  const id = idOf(request);
  // PUT replaces the whole resource: a body without members leaves the group without members.
  const write = { members: [], ...parseGroup(request.body) };
  const ifVersion = ifMatchVersion(request);
  const record = await ctx.directory.replaceGroup(id, write, ifVersion === undefined ? {} : { ifVersion });
  if (record === null) throw notFound('Group', id);
  return answerGroup(ctx, request, record);
}

/**
 * PATCH: the other attributes by a replace without members (so a concurrent membership change is kept),
 * membership by one atomic add/remove of the difference the operations made.
 */
async function patch(ctx: ScimContext, request: RouteRequest) {
  const id = idOf(request);
  const operations = parsePatch(request.body, GROUP_URN);
  let record = await current(ctx, id);
  // The difference against the snapshot the operations applied to: a member a concurrent request added
  // since is neither added nor removed here.
  const old = new Set(record.members);
  const before = renderGroup(ctx.resources, record);
  const after = parseGroup(applyPatch(before, operations, GROUP_URN));
  const { members: _before, ...was } = parseGroup(before);
  const { members = [], ...now } = after;
  const ifVersion = ifMatchVersion(request);
  if (canonical(now) !== canonical(was) || ifVersion !== undefined) {
    const replaced = await ctx.directory.replaceGroup(id, now, ifVersion === undefined ? {} : { ifVersion });
    if (replaced === null) throw notFound('Group', id);
    record = replaced;
  }
  const next = new Set(members);
  const add = [...next].filter((member) => !old.has(member));
  const remove = [...old].filter((member) => !next.has(member));
  if (add.length > 0 || remove.length > 0) {
    const changed = await ctx.directory.changeMembers(id, { add, remove });
    if (changed === null) throw notFound('Group', id);
    record = changed;
  }
  return answerGroup(ctx, request, record);
}

/** The /Groups routes. */
export function groupRoutes(ctx: ScimContext): Route[] {
  return [
    { method: 'GET', path: '/Groups', handler: scimHandler((request) => list(ctx, request)) },
    {
      method: 'POST',
      path: '/Groups',
      handler: scimHandler(async (request) =>
        answerGroup(ctx, request, await ctx.directory.createGroup(parseGroup(request.body)), 201),
      ),
    },
    {
      method: 'GET',
      path: '/Groups/:id',
      handler: scimHandler(async (request) => answerGroup(ctx, request, await current(ctx, idOf(request)))),
    },
    { method: 'PUT', path: '/Groups/:id', handler: scimHandler((request) => replace(ctx, request)) },
    { method: 'PATCH', path: '/Groups/:id', handler: scimHandler((request) => patch(ctx, request)) },
    {
      method: 'DELETE',
      path: '/Groups/:id',
      handler: scimHandler(async (request) => {
        const id = idOf(request);
        if (!(await ctx.directory.deleteGroup(id))) throw notFound('Group', id);
        return { status: 204 };
      }),
    },
  ];
}
