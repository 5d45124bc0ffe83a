/**
 * Who stored each shard on this peer: (shard id, owner peer id) rows in DIR/mesh.db. Only an
 * owner may delete a shard; the bytes go when the last owner lets go. (Content addressing means
 * two gateways could store the same ciphertext; each keeps its own claim.)
 */
import { migrate, openDatabase, type DB } from '../../src/core/db.ts';

const MIGRATIONS = [
  `CREATE TABLE shard_owners (
     id TEXT NOT NULL,
     owner TEXT NOT NULL,
     stored_at INTEGER NOT NULL,
     PRIMARY KEY (id, owner)
   ) WITHOUT ROWID`,
  `CREATE INDEX shard_owners_owner ON shard_owners(owner, id)`,
];

export interface OwnedShard {
  id: string;
  /** When the owner stored it (ms since epoch). */
  storedAt: number;
}

export class OwnerIndex {
  /** DIR/mesh.db: also holds the admission table. */
  readonly db: DB;
  private readonly insert;
  private readonly select;
  private readonly remove;
  private readonly page;

  constructor(file: string) {
    this.db = openDatabase(file);
    migrate(this.db, 'mesh-shard-owners', MIGRATIONS);
    this.insert = this.db.prepare('INSERT OR IGNORE INTO shard_owners (id, owner, stored_at) VALUES (?, ?, ?)');
    this.select = this.db.prepare('SELECT owner FROM shard_owners WHERE id = ?').pluck();
    this.remove = this.db.prepare('DELETE FROM shard_owners WHERE id = ? AND owner = ?');
    this.page = this.db.prepare('SELECT id, stored_at AS storedAt FROM shard_owners WHERE owner = ? AND id > ? ORDER BY owner, id LIMIT ?');
  }

  record(id: string, owner: string): void {
    this.insert.run(id, owner, Date.now());
  }

  owners(id: string): string[] {
    return this.select.all(id) as string[];
  }

  /** The shards `owner` stored here, in id order after `after`, at most `limit`. */
  ownedBy(owner: string, after: string, limit: number): OwnedShard[] {
    return this.page.all(owner, after, limit) as OwnedShard[];
  }

  /** When `owner` stored `id` here, if it did. */
  storedAt(id: string, owner: string): number | undefined {
    return (this.db.prepare('SELECT stored_at FROM shard_owners WHERE id = ? AND owner = ?').pluck().get(id, owner) as number | undefined) ?? undefined;
  }

  /** Ids of the shards `owner` stored here at or after `since` (ms), at most `limit`. */
  ownedSince(owner: string, since: number, limit: number): string[] {
    return this.db.prepare('SELECT id FROM shard_owners WHERE owner = ? AND stored_at >= ? LIMIT ?').pluck().all(owner, since, limit) as string[];
  }

  /** Drops `owner`'s claim; returns the owners left. */
  release(id: string, owner: string): string[] {
    return this.db.transaction(() => {
      this.remove.run(id, owner);
      return this.owners(id);
    })();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
