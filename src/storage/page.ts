import type { Collection, Document, Filter, WithId } from 'mongodb';

export type PageQuery = { page: number; per_page: number };
export type Page<T> = { docs: WithId<T>[]; total: number };

/** One page of a collection and the total it was cut from, for the list envelope. */
export async function findPage<T extends Document>(
  collection: Collection<T>,
  filter: Filter<T>,
  sort: Record<string, 1 | -1>,
  query: PageQuery,
): Promise<Page<T>> {
  const [docs, total] = await Promise.all([
    collection.find(filter).sort(sort).skip((query.page - 1) * query.per_page).limit(query.per_page).toArray(),
    collection.countDocuments(filter),
  ]);
  return { docs, total };
}

/** created_at in [since, until), or no condition when neither is given. */
export function createdBetween(since?: Date | null, until?: Date | null): { created_at?: Record<string, Date> } {
  if (!since && !until) return {};
  return { created_at: { ...(since ? { $gte: since } : {}), ...(until ? { $lt: until } : {}) } };
}
