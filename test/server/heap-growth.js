// A busy server's allocation pattern in miniature: 60 MB alive, and garbage that lives long enough to be
// promoted before it is dropped. Prints the peak heap in MB. argv[2] = 'bound': call boundHeapGrowth first.
const { boundHeapGrowth } = await import(process.env.HEAP_MODULE);
if (process.argv[2] === 'bound') boundHeapGrowth([], '');
const live = Array.from({ length: 600 }, () => Array.from({ length: 1000 }, (_, i) => ({ i, s: 'x'.repeat(20) + i })));
let peak = 0;
let medium = [];
for (let round = 0; round < 150; round++) {
  for (let i = 0; i < 20000; i++) medium.push({ round, i, s: 'y'.repeat(30) + i });
  if (medium.length > 200000) medium = [];
  await new Promise((resolve) => setImmediate(resolve));
  peak = Math.max(peak, process.memoryUsage().heapUsed);
}
console.log(Math.round(peak / 1048576), live.length);
