// byokit against @pydantic/genai-prices (pure JS), in one process and one run, on the same
// inputs: each pair is first checked to give the same answer, then timed, in three rounds, the
// functions taking turns so that each sees the same load.
// Runs in Node (bench.mjs) and in a browser page (bench-browser.mjs); `byokit` and `genai` are
// the two packages' modules, `body` the OpenAI reply fixture (838 bytes) as text, `log` prints.

/**
 * Calls per second of each function of `fns`, timed in turns of about 10 ms each until each has
 * run for about `ms` in all: on a shared machine, the functions compared see the same load.
 */
function rates(fns, ms, cpuUsage) {
  const names = Object.keys(fns);
  const calls = Object.fromEntries(names.map((k) => [k, 0]));
  const spent = Object.fromEntries(names.map((k) => [k, 0]));
  const cpu = Object.fromEntries(names.map((k) => [k, 0]));
  for (const k of names) for (let i = 0; i < 2000; i++) fns[k]();
  while (spent[names[0]] < ms) {
    for (const k of names) {
      const fn = fns[k];
      const c0 = cpuUsage?.();
      const t0 = performance.now();
      let t = t0;
      let n = 0;
      while (t - t0 < 10) {
        for (let i = 0; i < 50; i++) fn();
        n += 50;
        t = performance.now();
      }
      calls[k] += n;
      spent[k] += t - t0;
      if (c0) {
        const c = cpuUsage(c0);
        cpu[k] += (c.user + c.system) / 1000;
      }
    }
  }
  const perSecond = (k, ms) => calls[k] / (ms / 1000);
  return Object.fromEntries(names.map((k) => [k, { wall: perSecond(k, spent[k]), cpu: cpuUsage ? perSecond(k, cpu[k]) : null }]));
}

const fmt = (n) => (Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const ratio = (a, b) => (Number.isNaN(a / b) ? 'n/a' : (a / b).toFixed(2));

/**
 * `cpuUsage` (Node's `process.cpuUsage`), when given, adds each function's calls per second of
 * the process's CPU time: what the machine's other load does not change.
 */
export function sideBySide({ byokit, genai, body, log, ms = 1000, rounds = 3, cpuUsage }) {
  // The same call: gpt-4o, 2,000 input tokens of which 1,536 cached, 300 output.
  const input = { provider: 'openai', model: 'gpt-4o', inputTokens: 2000, cachedInputTokens: 1536, outputTokens: 300 };
  const usage = { input_tokens: 2000, cache_read_tokens: 1536, output_tokens: 300 };
  const options = { providerId: 'openai' };
  // A build from before `catalog.model` (and bytes for `usageFromResponse`) is measured without.
  const older = byokit.catalog === undefined;
  const gpt4o = older ? null : byokit.catalog.model('openai', 'gpt-4o');
  const openai = genai.findProvider({ providerId: 'openai' });

  const ours = byokit.estimateCost(input).costUsd;
  const theirs = genai.calcPrice(usage, 'gpt-4o', options).total_price;
  if (Number(ours) !== theirs || (gpt4o && gpt4o.cost(input).costUsd !== ours)) {
    throw new Error(`the costs differ: byokit ${ours}, genai-prices ${theirs}`);
  }
  log(`same cost: byokit estimateCost ${ours} (decimal string), genai-prices calcPrice ${theirs} (float)`);
  const read = byokit.usageFromResponse('openai', body);
  const extracted = genai.extractUsage(openai, JSON.parse(body), 'chat').usage;
  if (read.inputTokens !== extracted.input_tokens || read.outputTokens !== extracted.output_tokens) {
    throw new Error('the usages differ');
  }
  log(`same usage of the ${new TextEncoder().encode(body).length}-byte OpenAI reply: ${read.inputTokens} in, ${read.outputTokens} out`);

  const bytes = new TextEncoder().encode(body);
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    const r = rates({
      calcPrice: () => genai.calcPrice(usage, 'gpt-4o', options),
      estimateCost: () => byokit.estimateCost(input),
      extractUsage: () => genai.extractUsage(openai, JSON.parse(body), 'chat'),
      usageFromResponse: () => byokit.usageFromResponse('openai', body),
      ...(older ? {} : {
        modelCost: () => gpt4o.cost(input),
        usageFromBytes: () => byokit.usageFromResponse('openai', bytes),
      }),
    }, ms, cpuUsage);
    const none = { wall: NaN, cpu: NaN };
    r.modelCost ??= none;
    r.usageFromBytes ??= none;
    results.push(r);
    const line = (k) => r[k].wall;
    log(`round ${round}: estimateCost ${fmt(line('estimateCost'))} calls/s, calcPrice ${fmt(line('calcPrice'))} calls/s, `
      + `ratio ${ratio(line('estimateCost'), line('calcPrice'))}; catalog.model(...).cost ${fmt(line('modelCost'))} calls/s `
      + `(ratio ${ratio(line('modelCost'), line('calcPrice'))}); usageFromResponse ${fmt(line('usageFromResponse'))} calls/s `
      + `(string), ${fmt(line('usageFromBytes'))} (Uint8Array); extractUsage(JSON.parse(body)) ${fmt(line('extractUsage'))} calls/s`);
    if (cpuUsage) {
      const cpu = (k) => r[k].cpu;
      log(`  per second of CPU time: estimateCost ${fmt(cpu('estimateCost'))}, calcPrice ${fmt(cpu('calcPrice'))} `
        + `(ratio ${ratio(cpu('estimateCost'), cpu('calcPrice'))}), catalog.model(...).cost ${fmt(cpu('modelCost'))}, `
        + `usageFromResponse ${fmt(cpu('usageFromResponse'))} (string), ${fmt(cpu('usageFromBytes'))} (Uint8Array), `
        + `extractUsage ${fmt(cpu('extractUsage'))}`);
    }
  }
  return results;
}
