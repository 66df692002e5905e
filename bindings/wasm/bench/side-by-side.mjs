// byokit against @pydantic/genai-prices (pure JS), in one process and one run, on the same
// inputs: each pair is first checked to give the same answer, then timed, in three rounds.
// Runs in Node (bench.mjs) and in a browser page (bench-browser.mjs); `byokit` and `genai` are
// the two packages' modules, `body` the OpenAI reply fixture (838 bytes) as text, `log` prints.

/** Calls per second of `fn`, over `ms` milliseconds after a warm-up. */
function rate(fn, ms) {
  for (let i = 0; i < 2000; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

export function sideBySide({ byokit, genai, body, log, ms = 1000, rounds = 3 }) {
  // The same call: gpt-4o, 2,000 input tokens of which 1,536 cached, 300 output.
  const input = { provider: 'openai', model: 'gpt-4o', inputTokens: 2000, cachedInputTokens: 1536, outputTokens: 300 };
  const usage = { input_tokens: 2000, cache_read_tokens: 1536, output_tokens: 300 };
  const options = { providerId: 'openai' };
  const gpt4o = byokit.catalog.model('openai', 'gpt-4o');
  const openai = genai.findProvider({ providerId: 'openai' });

  const ours = byokit.estimateCost(input).costUsd;
  const theirs = genai.calcPrice(usage, 'gpt-4o', options).total_price;
  if (Number(ours) !== theirs || gpt4o.cost(input).costUsd !== ours) {
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
    const r = {
      calcPrice: rate(() => genai.calcPrice(usage, 'gpt-4o', options), ms),
      estimateCost: rate(() => byokit.estimateCost(input), ms),
      modelCost: rate(() => gpt4o.cost(input), ms),
      extractUsage: rate(() => genai.extractUsage(openai, JSON.parse(body), 'chat'), ms),
      usageFromResponse: rate(() => byokit.usageFromResponse('openai', body), ms),
      usageFromBytes: rate(() => byokit.usageFromResponse('openai', bytes), ms),
    };
    results.push(r);
    log(`round ${round}: estimateCost ${fmt(r.estimateCost)} calls/s, calcPrice ${fmt(r.calcPrice)} calls/s, `
      + `ratio ${(r.estimateCost / r.calcPrice).toFixed(2)}; catalog.model(...).cost ${fmt(r.modelCost)} calls/s `
      + `(ratio ${(r.modelCost / r.calcPrice).toFixed(2)}); usageFromResponse ${fmt(r.usageFromResponse)} calls/s `
      + `(string), ${fmt(r.usageFromBytes)} (Uint8Array); extractUsage(JSON.parse(body)) ${fmt(r.extractUsage)} calls/s`);
  }
  return results;
}
