/** The users columns of migration 0001 (frozen: its triggers compare exactly these). */
export const USER_FIELDS = [
  'id',
  'issuer',
  'subject',
  'username',
  'email',
  'name',
  'role',
  'role_source',
  'tenant_id',
  'status',
  'disabled_at',
  'tokens_valid_after',
  'created_at',
  'updated_at',
] as const;

/** The columns whose change a user cache must hear about (not `updated_at`, not `last_seen_at`). */
export const watched = (fields: readonly string[]) =>
  fields.filter((c) => c !== 'updated_at' && c !== 'created_at');
