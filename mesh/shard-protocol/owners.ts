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
];

export class OwnerIndex {
  private readonly db: DB;
  private readonly insert;
  private readonly select;
  private readonly remove;

  constructor(file: string) {
    this.db = openDatabase(file);
    migrate(this.db, 'mesh-shard-owners', MIGRATIONS);
    this.insert = this.db.prepare('INSERT OR IGNORE INTO shard_owners (id, owner, stored_at) VALUES (?, ?, ?)');
    this.select = this.db.prepare('SELECT owner FROM shard_owners WHERE id = ?').pluck();
    this.remove = this.db.prepare('DELETE FROM shard_owners WHERE id = ? AND owner = ?');
  }

  record(id: string, owner: string): void {
    this.insert.run(id, owner, Date.now());
  }

  owners(id: string): string[] {
    return this.select.all(id) as string[];
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
