// The repository root, found from this file's location: the bench runs bundled from .build/ (bin/run-ts.js),
// so __dirname is not bench/lib at run time.
import { existsSync } from 'node:fs';
import path from 'node:path';

function findRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json')) && existsSync(path.join(d, 'bin', 'run-ts.js'))) return d;
    if (path.dirname(d) === d) throw new Error(`cannot find the movierec repository above ${from}`);
  }
}

export const ROOT = findRoot(__dirname);
