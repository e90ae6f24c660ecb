import type { Kysely } from 'kysely';

/**
 * Group memberships (SPEC §8): one row per account and group. The primary key makes adding twice a
 * no-op and serves the per-account lookup of the forward-auth decision; the name index serves
 * "who is in this group".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('user_groups')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_groups_pk', ['user_id', 'name'])
    .execute();
  await db.schema.createIndex('user_groups_name').on('user_groups').column('name').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('user_groups').ifExists().execute();
}
