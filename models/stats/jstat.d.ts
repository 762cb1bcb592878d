// Minimal types for the parts of jstat (untyped CommonJS) that distributions.ts uses.
// Only distributions.ts may import 'jstat': everything else goes through its wrappers.
declare module 'jstat' {
  interface JStatStatic {
    normal: { inv(p: number, mean: number, sd: number): number };
    chisquare: { inv(p: number, df: number): number };
    beta: { inv(p: number, a: number, b: number): number };
    studentt: { inv(p: number, df: number): number };
  }
  const jStat: JStatStatic;
  export default jStat;
}
