// The movie catalogue (titles and genres from movies.csv) in the clusters table: pages of ≤ MOVIES_PAGE_SIZE
// movies under movies#<catalogue>, a pointer movies/active naming the current one. Version-independent;
// cached in memory for a few minutes.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Catalogue, MovieInfo } from '../../ports';
import { batchWrite, BatchWriteOptions, WriteRequest } from './batch-writer';
import type { DynamoContext } from './context';
import { keys, MOVIES_PAGE_SIZE } from './layout';

export interface CatalogueConfig {
  /** how long the movie catalogue is cached (default 5 min) */
  moviesTtlMs?: number;
  batch?: BatchWriteOptions;
}

export class DynamoCatalogue implements Catalogue {
  private cached: { value: Map<number, MovieInfo>; at: number } | null = null;

  constructor(
    private readonly db: DynamoContext,
    private readonly cfg: CatalogueConfig = {},
  ) {}

  async putMovies(movies: MovieInfo[], catalogueId: string): Promise<{ items: number }> {
    const sorted = [...movies].sort((a, b) => a.movieId - b.movieId);
    const pk = keys.moviesPk(catalogueId);
    const puts: WriteRequest[] = [];
    for (let p = 0; p * MOVIES_PAGE_SIZE < sorted.length; p++) {
      const page = sorted.slice(p * MOVIES_PAGE_SIZE, (p + 1) * MOVIES_PAGE_SIZE);
      puts.push({
        PutRequest: { Item: { pk, sk: keys.page(p), d: JSON.stringify(page.map((m) => [m.movieId, m.title.slice(0, 500), m.genres])) } },
      });
    }
    const stats = await batchWrite(this.db.doc, this.db.clustersTable, puts, this.cfg.batch);
    const prev = await this.db.send<{ Attributes?: Record<string, unknown> }>(
      new PutCommand({
        TableName: this.db.clustersTable,
        Item: { ...keys.moviesPointer(), catalogue: catalogueId, movies: sorted.length, updatedAt: new Date(this.db.now()).toISOString() },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = prev.Attributes?.catalogue as string | undefined;
    if (old && old !== catalogueId) {
      const oldItems = await this.db.queryPk(this.db.clustersTable, keys.moviesPk(old), true);
      await batchWrite(
        this.db.doc,
        this.db.clustersTable,
        oldItems.map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } })),
        this.cfg.batch,
      );
    }
    this.cached = null;
    return { items: stats.items + 1 };
  }

  async getMovies(): Promise<Map<number, MovieInfo>> {
    const ttl = this.cfg.moviesTtlMs ?? 300_000;
    if (this.cached && this.db.now() - this.cached.at < ttl) return this.cached.value;
    const ptr = await this.db.get(this.db.clustersTable, keys.moviesPointer());
    const value = new Map<number, MovieInfo>();
    if (ptr?.catalogue) {
      for (const it of await this.db.queryPk(this.db.clustersTable, keys.moviesPk(ptr.catalogue as string))) {
        for (const [movieId, title, genres] of JSON.parse(it.d as string) as [number, string, string[]][]) {
          value.set(movieId, { movieId, title, genres });
        }
      }
    }
    this.cached = { value, at: this.db.now() };
    return value;
  }
}
