/**
 * How long the largest S3 request documents hold the event loop while parsed (issue 12: a 2 MiB
 * DeleteObjects body stalled the server ~2 s). Run: npx tsx scripts/xml-limits.ts
 */
import { XMLParser } from 'fast-xml-parser';
import { parseXml } from '../s3/xml.ts';

const objects = (n: number, keyLength: number) =>
  '<Delete>' + Array.from({ length: n }, (_, i) => `<Object><Key>${String(i).padEnd(keyLength, 'k')}</Key></Object>`).join('') + '</Delete>';
const parts = (n: number) =>
  '<CompleteMultipartUpload>' +
  Array.from({ length: n }, (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"0123456789abcdef0123456789abcdef"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>`).join('') +
  '</CompleteMultipartUpload>';
const cases: Array<[string, string, string]> = [
  ['Delete, 1000 keys of 1 KiB', objects(1000, 1024), 'Delete'],
  ['Delete, 2 MiB of tiny <Object>s (refused at 1001)', objects(60_000, 10).slice(0, 2 * 1024 * 1024), 'Delete'],
  ['CompleteMultipartUpload, 10000 parts', parts(10_000), 'CompleteMultipartUpload'],
  ['Delete, 2 MiB of entities', '<Delete><Object><Key>' + '&amp;'.repeat(400_000) + '</Key></Object></Delete>', 'Delete'],
];
// The general parser datamesh used before, for comparison on the same machine and load.
const general = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: true, removeNSPrefix: true });
const median = (f: () => void): number => {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    try {
      f();
    } catch {
      // refused: the time to refuse is what counts
    }
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[3]!;
};
for (const [label, xml, root] of cases) {
  const ours = median(() => parseXml(xml, root));
  const theirs = median(() => general.parse(xml));
  console.log(`${label}: ${(xml.length / 1024 / 1024).toFixed(2)} MiB, median of 7: ${ours.toFixed(1)} ms (fast-xml-parser: ${theirs.toFixed(1)} ms)`);
}
