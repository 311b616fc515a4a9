// The part of jstat 1.9 (no bundled types) that distributions.ts uses.
declare module 'jstat' {
  interface Dist2 {
    cdf(x: number, mean: number, sd: number): number;
    inv(p: number, mean: number, sd: number): number;
  }
  interface DistDof {
    cdf(x: number, dof: number): number;
    inv(p: number, dof: number): number;
  }
  interface JStatStatic {
    normal: Dist2;
    studentt: DistDof;
    erfc(x: number): number;
  }
  const jStat: JStatStatic;
  const pkg: { jStat: JStatStatic };
  export { jStat };
  export default pkg;
}
