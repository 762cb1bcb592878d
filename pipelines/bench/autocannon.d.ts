// The part of autocannon's API the bench uses (the package ships no types).
declare module 'autocannon' {
  interface Request { method?: 'GET' | 'POST'; path: string; headers?: Record<string, string> }
  interface Options { url: string; connections?: number; duration?: number; headers?: Record<string, string>; requests?: Request[] }
  interface Histogram { average: number; total: number; p50: number; p97_5: number; p99: number; max: number }
  interface Result { requests: Histogram; latency: Histogram; errors: number; non2xx: number; timeouts: number }
  function autocannon(opts: Options): Promise<Result>;
  export default autocannon;
}
