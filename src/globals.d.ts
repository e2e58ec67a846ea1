// Defined at build time by esbuild (scripts/build.mjs) from package.json.
declare const VERSION: string;
