// Statistics used by the metrics (see the spec's metrics.md), each matching R.
export * from './wilson.ts';
export * from './poisson.ts';
export * from './kaplanMeier.ts';
export * from './tInterval.ts';
export * from './proportionComparison.ts';
export * from './multipleComparisons.ts';
export * from './disparitySummary.ts';
export * from './binomialTest.ts';
export * from './aalenJohansen.ts';
export * from './spc.ts';
export * from './periodChange.ts';
export {
  normalQuantile,
  normalCdf,
  normalSf,
  chiSquareQuantile,
  chiSquareSf,
  gammaQuantile,
  betaQuantile,
  betaCdf,
  tQuantile,
  tCdf,
  logGamma,
  logBeta,
  logChoose,
  binomialLogPmf,
  hypergeometricLogPmf,
  regularizedGammaP,
  regularizedGammaQ,
  regularizedBeta,
} from './distributions.ts';
