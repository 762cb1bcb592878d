// The part of topojson-client the server uses (the package ships no types).
declare module 'topojson-client' {
  export function feature(topology: unknown, object: unknown): unknown;
}
