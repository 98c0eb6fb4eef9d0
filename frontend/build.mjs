// Builds every bundle into sentiero_core/static/ and records a manifest
// there: a hash of the sources (so a test can tell when the committed
// bundles are stale) and each output's size. Run with `npm run build`.
//
// The source hash covers build.mjs, package.json, package-lock.json and
// every file under src/ (names starting with "." skipped): for each path,
// sorted, "<posix path>\n<sha256 of the content, CRLF read as LF>\n" is fed
// to one SHA-256. tests/frontend/test_bundles.py computes it the same way.

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT_DIR = join(HERE, '..', 'sentiero_core', 'static');
const MANIFEST = join(OUT_DIR, 'build-manifest.json');

// One line per bundle: written to sentiero_core/static/<name>.js (and
// <name>.css when the entry imports CSS). budgetKB caps the gzipped JS.
// The recorder's withExtensionsKB caps what a page with every opt-in
// capture on receives: the extensions in front of the recorder.
const ENTRIES = [
  { name: 'recorder', entry: 'src/recorder/index.js', budgetKB: 35, withExtensionsKB: 37 },
  // opt-in captures, served in front of recorder.js when their setting is on
  { name: 'recorder-vitals', entry: 'src/recorder/ext-vitals.js', budgetKB: 5 },
  { name: 'recorder-console', entry: 'src/recorder/ext-console.js', budgetKB: 5 },
  { name: 'player', entry: 'src/player/main.js', budgetKB: 100 },
  // the player for events from a file: inlined into share files, served to
  // the import page; it shares player.css
  { name: 'player-file', entry: 'src/player/file.js', budgetKB: 100 },
  { name: 'dashboard', entry: 'src/dashboard/main.js', budgetKB: 5 },
  // the analytics plugin's pages: uPlot and rrweb's snapshot rebuilder;
  // written into that plugin's static folder
  {
    name: 'analytics',
    entry: 'src/analytics/main.js',
    budgetKB: 50,
    outDir: join(HERE, '..', 'plugins', 'sentiero_analytics', 'sentiero_analytics', 'static'),
  },
];

const HASHED_FILES = ['build.mjs', 'package.json', 'package-lock.json'];

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

function walk(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...walk(path));
    else if (entry.isFile()) found.push(path);
  }
  return found;
}

export function sourcesHash() {
  const paths = HASHED_FILES.concat(
    walk(join(HERE, 'src')).map((p) => relative(HERE, p).split(sep).join('/')),
  ).sort();
  const hash = createHash('sha256');
  for (const path of paths) {
    const text = readFileSync(join(HERE, path)).toString('latin1').replace(/\r\n/g, '\n');
    hash.update(path + '\n' + sha256(Buffer.from(text, 'latin1')) + '\n');
  }
  return { hash: hash.digest('hex'), files: paths.length };
}

function kb(bytes) {
  return (bytes / 1024).toFixed(1) + ' KB';
}

async function main() {
  const bundles = {};
  let overBudget = false;
  for (const { name, entry, budgetKB, outDir = OUT_DIR } of ENTRIES) {
    const result = await build({
      entryPoints: [join(HERE, entry)],
      outfile: join(outDir, name + '.js'),
      bundle: true,
      minify: true,
      format: 'iife',
      target: 'es2018',
      charset: 'ascii',
      legalComments: 'eof',
      define: { 'process.env.NODE_ENV': '"production"' },
      metafile: true,
      logLevel: 'warning',
    });
    for (const output of Object.keys(result.metafile.outputs).sort()) {
      // named relative to sentiero_core/static, where the tests look
      const file = relative(OUT_DIR, join(HERE, output)).split(sep).join('/');
      const data = readFileSync(join(HERE, output));
      const gzipped = gzipSync(data, { level: 9 }).length;
      bundles[file] = { bytes: data.length, gzip_bytes: gzipped, sha256: sha256(data) };
      console.log(`${file.padEnd(16)} ${kb(data.length).padStart(9)} minified ${kb(gzipped).padStart(9)} gzipped`);
      if (budgetKB && file.endsWith('.js') && gzipped > budgetKB * 1024) {
        console.error(`${file}: ${kb(gzipped)} gzipped is over its ${budgetKB} KB budget`);
        overBudget = true;
      }
    }
  }
  // With every opt-in capture on, the extensions travel in front of the
  // recorder in one response, joined as the server joins them.
  const RECORDER = ENTRIES[0];
  const served = ENTRIES.filter((e) => e.name.startsWith('recorder-'))
    .concat([RECORDER])
    .map((e) => readFileSync(join(OUT_DIR, e.name + '.js')));
  const allOn = gzipSync(Buffer.from(served.join(';\n')), { level: 9 }).length;
  console.log(`recorder.js with every extension in front: ${kb(allOn)} gzipped`);
  if (allOn > RECORDER.withExtensionsKB * 1024) {
    console.error(`the recorder with its extensions is over ${RECORDER.withExtensionsKB} KB`);
    overBudget = true;
  }
  const { hash, files } = sourcesHash();
  const manifest = { sources_sha256: hash, hashed_files: files, bundles };
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`manifest: ${relative(process.cwd(), MANIFEST)} (sources ${hash.slice(0, 12)}, ${files} files)`);
  if (overBudget) process.exit(1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
