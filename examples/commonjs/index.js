// CommonJS: require() the packages. Errors keep their class across copies (isConfigError).
// zod is the packages' peer: this project brings zod 4.1.8 (the lowest zod 4 of their range), whose `zod/v3` they use.
const { generateSyntheticMarket, isConfigError, ConfigError, parseWithSchema } = require('@task-agnostic/core');
const fusion = require('@task-agnostic/fusion');
const risk = require('@task-agnostic/risk');
const { z } = require('zod/v3');

const market = generateSyntheticMarket({ bars: 500, seed: 3 });
console.log(`${market.symbol}: ${market.candles.length} candles, last close ${market.candles.close[499].toFixed(2)}`);
console.log(`fusion exports ${Object.keys(fusion).length} names, risk exports ${Object.keys(risk).length}`);
try {
  throw new ConfigError('must be positive', 'risk.maxLeverage');
} catch (err) {
  if (!isConfigError(err)) throw err;
  console.log(`caught: ${err.message}`);
}

// The packages validate with the project's zod: a bad risk config names its field ...
const named = (fn, field) => {
  try {
    fn();
  } catch (err) {
    if (isConfigError(err) && err.field === field) return err.message;
    throw err;
  }
  throw new Error(`expected a ConfigError naming ${field}`);
};
console.log(`risk: ${named(() => risk.parseRiskConfig({ baseSize: 2 }), 'baseSize')}`);
// ... and a schema built here with zod/v3 goes through core's parseWithSchema.
const schema = z.object({ bars: z.number().int().min(100).default(500) });
if (parseWithSchema(schema, {}, 'example').bars !== 500) throw new Error('the default was not filled in');
console.log(`own schema: ${named(() => parseWithSchema(schema, { bars: 5 }, 'example'), 'bars')}`);
console.log(`zod ${require('zod/package.json').version}`);
