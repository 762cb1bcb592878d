// Vega-Lite spec builders: pure functions from aggregated, already suppressed rows to a
// spec. The server uses them for the pages (spec JSON), for images (SVG/PNG) and reports.
export * from './theme.ts';
export * from './trend.ts';
export * from './spc.ts';
export * from './funnel.ts';
export * from './km.ts';
export * from './scorecard.ts';
export * from './heatmap.ts';
export * from './choropleth.ts';
export * from './intervals.ts';
export * from './forest.ts';
export * from './bars.ts';
export * from './eventStudy.ts';
