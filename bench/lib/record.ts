// Where a run goes in BENCHMARKS.md: others append their own sections to the same file (e.g. "## Soak"),
// so a bench run is inserted after the last "## Bench run" of this benchmark's section, before any
// section that follows it, and never moves or removes anyone else's text.
export const SECTION_HEADING = '## npm run bench';
export const RUN_HEADING = '## Bench run';

/** The file's new text with `run` (starting with RUN_HEADING) placed at the end of this benchmark's runs. */
export function insertRun(file: string, run: string, intro: string): string {
  const text = file.includes(SECTION_HEADING) ? file : `${file.trimEnd()}${file.trim() ? '\n\n' : ''}${intro.trimEnd()}\n`;
  const start = text.indexOf(SECTION_HEADING);
  const re = /^## .*$/gm;
  re.lastIndex = start + SECTION_HEADING.length;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (!m[0].startsWith(RUN_HEADING)) {
      // a foreign section follows ours: insert just before it
      return `${text.slice(0, m.index).trimEnd()}\n\n${run.trimEnd()}\n\n${text.slice(m.index)}`;
    }
  }
  return `${text.trimEnd()}\n\n${run.trimEnd()}\n`;
}
