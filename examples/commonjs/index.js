// CommonJS: require() the packages. Errors keep their class across copies (isConfigError).
const { generateSyntheticMarket, isConfigError, ConfigError } = require('@task-agnostic/core');
const fusion = require('@task-agnostic/fusion');
const risk = require('@task-agnostic/risk');

const market = generateSyntheticMarket({ bars: 500, seed: 3 });
console.log(`${market.symbol}: ${market.candles.length} candles, last close ${market.candles.close[499].toFixed(2)}`);
console.log(`fusion exports ${Object.keys(fusion).length} names, risk exports ${Object.keys(risk).length}`);
try {
  throw new ConfigError('must be positive', 'risk.maxLeverage');
} catch (err) {
  if (!isConfigError(err)) throw err;
  console.log(`caught: ${err.message}`);
}
