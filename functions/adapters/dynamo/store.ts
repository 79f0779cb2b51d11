// The ModelStore port over DynamoDB (lib-dynamodb): one object for the use cases, made of one part per
// concern sharing a client, the table names and the request counts —
//   versions.ts        active pointer, version metadata, the publish protocol's writes, cleanup
//   users.ts           a version's users (read; the few writes the API makes)
//   lists.ts           cluster lists: immutable base lists (cached) + favourite counters
//   favourite-log.ts   durable favourite records
//   catalogue.ts       movie titles and genres
//   lease.ts           one training at a time
//   similar.ts         each version's similar movies
// The item layout is layout.ts; the protocols and their reasoning are in docs/ARCHITECTURE.md.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ModelStore } from '../../ports';
import type { PartitionedPublish } from '../../ports/training-run';
import type { BatchWriteOptions } from './batch-writer';
import { DynamoCatalogue, type CatalogueConfig } from './catalogue';
import { DynamoContext } from './context';
import { DynamoFavouriteLog } from './favourite-log';
import { DynamoTrainingLease } from './lease';
import { DynamoLists, type ListsConfig } from './lists';
import { DynamoSimilar } from './similar';
import { DynamoUsers, type UsersConfig } from './users';
import { DynamoVersions, type VersionsConfig } from './versions';

export interface DynamoModelStoreConfig extends VersionsConfig, UsersConfig, ListsConfig, CatalogueConfig {
  doc: DynamoDBDocumentClient;
  usersTable: string;
  clustersTable: string;
  batch?: BatchWriteOptions;
  now?: () => number;
}

export class DynamoModelStore implements ModelStore, PartitionedPublish {
  private readonly db: DynamoContext;
  readonly versions: DynamoVersions;
  readonly users: DynamoUsers;
  readonly lists: DynamoLists;
  readonly favourites: DynamoFavouriteLog;
  readonly catalogue: DynamoCatalogue;
  readonly lease: DynamoTrainingLease;
  readonly similar: DynamoSimilar;

  constructor(cfg: DynamoModelStoreConfig) {
    this.db = new DynamoContext(cfg.doc, cfg.usersTable, cfg.clustersTable, cfg.now ?? Date.now);
    this.versions = new DynamoVersions(this.db, cfg);
    this.users = new DynamoUsers(this.db, cfg);
    this.lists = new DynamoLists(this.db, cfg);
    this.favourites = new DynamoFavouriteLog(this.db);
    this.catalogue = new DynamoCatalogue(this.db, cfg);
    this.lease = new DynamoTrainingLease(this.db);
    this.similar = new DynamoSimilar(this.db);
  }

  /** requests sent, by command name (for measurements and tests) */
  get calls(): Record<string, number> {
    return this.db.calls;
  }

  /** Total read requests (GetItem + Query + BatchGetItem) sent so far. */
  get reads(): number {
    const c = this.db.calls;
    return (c.GetCommand ?? 0) + (c.QueryCommand ?? 0) + (c.BatchGetCommand ?? 0);
  }

  get favouriteLimit(): number {
    return this.users.favouriteLimit;
  }

  activeVersion: ModelStore['activeVersion'] = (o) => this.versions.activeVersion(o);
  versionMeta: ModelStore['versionMeta'] = (v, o) => this.versions.versionMeta(v, o);
  checkPublishable: ModelStore['checkPublishable'] = (v, o) => this.versions.checkPublishable(v, o);
  writeVersion: ModelStore['writeVersion'] = (m, v, s, o) => this.versions.writeVersion(m, v, s, o);
  recordExport: ModelStore['recordExport'] = (v, e) => this.versions.recordExport(v, e);
  cleanup: ModelStore['cleanup'] = (a, p) => this.versions.cleanup(a, p);
  startVersion: PartitionedPublish['startVersion'] = (l, v, s, o) => this.versions.startVersion(l, v, s, o);
  writeUsers: PartitionedPublish['writeUsers'] = (u, v, p) => this.versions.writeUsers(u, v, p);
  finishVersion: PartitionedPublish['finishVersion'] = (v, s, o) => this.versions.finishVersion(v, s, o);
  getUser: ModelStore['getUser'] = (v, u, o) => this.users.getUser(v, u, o);
  createUser: ModelStore['createUser'] = (v, u, c, m, o) => this.users.createUser(v, u, c, m, o);
  claimFavourite: ModelStore['claimFavourite'] = (v, u, m) => this.users.claimFavourite(v, u, m);
  getClusterList: ModelStore['getClusterList'] = (v, c) => this.lists.getClusterList(v, c);
  getPopularList: ModelStore['getPopularList'] = (v) => this.lists.getPopularList(v);
  getClusterLists: ModelStore['getClusterLists'] = (v, c) => this.lists.getClusterLists(v, c);
  getTypical: ModelStore['getTypical'] = (v, c) => this.lists.getTypical(v, c);
  listsHolding: ModelStore['listsHolding'] = (v, c, m) => this.lists.listsHolding(v, c, m);
  countFavourite: ModelStore['countFavourite'] = (v, c, m, o) => this.lists.countFavourite(v, c, m, o);
  movieCount: ModelStore['movieCount'] = (v, c, m) => this.lists.movieCount(v, c, m);
  recordFavourite: ModelStore['recordFavourite'] = (u, m, at) => this.favourites.recordFavourite(u, m, at);
  listFavourites: ModelStore['listFavourites'] = (o) => this.favourites.listFavourites(o);
  putMovies: ModelStore['putMovies'] = (m, c) => this.catalogue.putMovies(m, c);
  getMovies: ModelStore['getMovies'] = () => this.catalogue.getMovies();
  getSimilar: ModelStore['getSimilar'] = (v, m) => this.similar.getSimilar(v, m);
}
